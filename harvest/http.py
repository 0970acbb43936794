"""HTTP for harvesters: one polite, retrying, size-capped client.

Archives rate-limit and fail transiently; a researcher's overnight harvest must ride that out
(retries with exponential backoff on 429/5xx, timeouts and cut-off bodies) without hammering
the server (per-host delay, Retry-After), without filling the disk (size cap) and without
hanging on a server that trickles a body byte by byte (a time cap per response: the socket
timeout alone only bounds the gap between bytes, and a hung harvest holds the refresh lock).
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import requests
import urllib3

from postercensus.catalog import __version__
from postercensus.catalog.tempfiles import make_temp

USER_AGENT = f"postercensus/{__version__} (corpus analytics for poster collections)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
READ_SIZE = 64 * 1024
TRANSIENT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


class FetchError(Exception):
    """A URL could not be fetched after all retries; the message says why, for the report."""


@dataclass
class HttpSettings:
    """Knobs a user may set per harvest (CLI options / postercensus.toml)."""

    retries: int = 4
    backoff: float = 0.5
    timeout: float = 30.0
    per_host_delay: float = 0.0
    max_bytes: int = 200 * 1024 * 1024
    max_retry_after: float = 60.0
    max_body_seconds: float = 600.0  # however steadily its bytes arrive, no body may take longer


class HttpClient:
    """A requests session with retries, backoff, per-host pacing and a byte cap."""

    def __init__(self, settings: HttpSettings | None = None) -> None:
        self.settings = settings or HttpSettings()
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self._host_lock = threading.Lock()
        self._host_next_slot: dict[str, float] = {}

    def get_bytes(self, url: str) -> bytes:
        """Fetch a (small) document such as an XML page or a JSON manifest into memory."""
        return self._with_retries(url, self._read_body)

    def download(self, url: str, directory: Path) -> Path:
        """Stream `url` into a temporary file in `directory` (same filesystem, for atomic rename)."""
        return self._with_retries(url, lambda response: self._stream_to_file(response, url, directory))

    def _with_retries(self, url, consume):
        settings = self.settings
        last_problem = "no attempt made"
        retry_after: float | None = None
        for attempt in range(settings.retries + 1):
            if attempt:
                time.sleep(self._backoff_seconds(attempt, retry_after))
            retry_after = None
            self._wait_for_host(url)
            try:
                with self.session.get(url, timeout=settings.timeout, stream=True) as response:
                    if response.status_code in RETRY_STATUSES:
                        last_problem = f"HTTP {response.status_code}"
                        retry_after = _retry_after_seconds(response)
                        continue
                    if response.status_code >= 400:
                        raise FetchError(f"HTTP {response.status_code} for {url}")
                    self._check_declared_size(response, url)
                    return consume(response)
            except TRANSIENT_ERRORS as error:
                last_problem = f"{type(error).__name__}: {error}"
            except requests.RequestException as error:
                raise FetchError(f"{url}: {error}") from error
        raise FetchError(f"{url}: gave up after {settings.retries + 1} attempts ({last_problem})")

    def _backoff_seconds(self, attempt: int, retry_after: float | None) -> float:
        exponential = self.settings.backoff * (2 ** (attempt - 1))
        if retry_after is not None:
            return min(max(retry_after, exponential), self.settings.max_retry_after)
        return exponential

    def _wait_for_host(self, url: str) -> None:
        delay = self.settings.per_host_delay
        if delay <= 0:
            return
        host = urlsplit(url).netloc
        with self._host_lock:
            now = time.monotonic()
            slot = max(now, self._host_next_slot.get(host, now))
            self._host_next_slot[host] = slot + delay
        if slot > now:
            time.sleep(slot - now)

    def _check_declared_size(self, response: requests.Response, url: str) -> None:
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.settings.max_bytes:
            raise FetchError(
                f"{url}: declared size {int(declared):,} bytes exceeds the cap of "
                f"{self.settings.max_bytes:,} bytes; not downloaded (if the file is genuine, raise the cap "
                "with --max-mb)"
            )

    def _chunks(self, response: requests.Response, url: str):
        """The body as it arrives, one socket read at a time, so both caps are checked after every read."""
        received = 0
        deadline = time.monotonic() + self.settings.max_body_seconds
        while chunk := _read_some(response):
            received += len(chunk)
            if received > self.settings.max_bytes:
                raise FetchError(f"{url}: body exceeds the cap of {self.settings.max_bytes:,} bytes; download "
                                 "stopped (if the file is genuine, raise the cap with --max-mb)")
            if time.monotonic() > deadline:
                raise FetchError(f"{url}: body still arriving after {self.settings.max_body_seconds:g} s "
                                 f"({received:,} bytes so far); stopped, the server sends too slowly (try later)")
            yield chunk

    def _read_body(self, response: requests.Response) -> bytes:
        return b"".join(self._chunks(response, response.url))

    def _stream_to_file(self, response: requests.Response, url: str, directory: Path) -> Path:
        handle, temp = make_temp(directory)
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in self._chunks(response, url):
                    out.write(chunk)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return temp


def _read_some(response: requests.Response) -> bytes:
    """Up to 64 KiB of the decoded body, returning after a single socket read (b"" at the end).

    requests' iter_content waits for a whole chunk, which a trickling server never completes.
    urllib3's errors are raised as the requests errors iter_content would raise, so cut-off
    bodies and read timeouts stay transient (retried).
    """
    try:
        return response.raw.read1(READ_SIZE, decode_content=True)
    except urllib3.exceptions.HTTPError as error:
        raise requests.exceptions.ConnectionError(error) from error


def _retry_after_seconds(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
