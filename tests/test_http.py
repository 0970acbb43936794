"""The shared HTTP client: retries with backoff, Retry-After, size caps, cut-off bodies."""
from __future__ import annotations

import gzip
import time

import pytest

from postercensus.harvest.http import FetchError, HttpClient, HttpSettings
from tests.support.localserver import LocalServer, Reply

FAST = HttpSettings(backoff=0.01, retries=3)


def flaky(failures: list[Reply], final: Reply):
    """A handler answering each reply of `failures` once, then `final` forever."""
    queue = list(failures)
    return lambda request: queue.pop(0) if queue else final


def test_500_twice_then_200_is_retried_to_success():
    with LocalServer(flaky([Reply(500), Reply(500)], Reply(body=b"ok"))) as server:
        assert HttpClient(FAST).get_bytes(server.url("/page")) == b"ok"
        assert len(server.requests) == 3


def test_429_honours_retry_after_then_succeeds():
    with LocalServer(flaky([Reply(429, headers={"Retry-After": "0"})], Reply(body=b"ok"))) as server:
        assert HttpClient(FAST).get_bytes(server.url("/x")) == b"ok"


def test_persistent_503_gives_up_with_the_reason():
    with LocalServer(lambda request: Reply(503)) as server:
        with pytest.raises(FetchError, match="gave up after 4 attempts.*HTTP 503"):
            HttpClient(FAST).get_bytes(server.url("/x"))
        assert len(server.requests) == 4


def test_404_is_not_retried():
    with LocalServer(lambda request: Reply(404)) as server:
        with pytest.raises(FetchError, match="HTTP 404"):
            HttpClient(FAST).get_bytes(server.url("/gone"))
        assert len(server.requests) == 1


def test_cut_off_body_is_retried():
    body = b"x" * 5000
    with LocalServer(flaky([Reply(body=body, drop_after=100)], Reply(body=body))) as server:
        assert HttpClient(FAST).get_bytes(server.url("/x")) == body
        assert len(server.requests) == 2


def test_declared_size_over_cap_is_refused_without_reading():
    settings = HttpSettings(backoff=0.01, max_bytes=1000)
    huge = Reply(body=b"", headers={"Content-Length": str(10**9)})
    with LocalServer(lambda request: huge) as server:
        with pytest.raises(FetchError, match="exceeds the cap"):
            HttpClient(settings).get_bytes(server.url("/big"))


def test_streamed_body_over_cap_is_refused(tmp_path):
    settings = HttpSettings(backoff=0.01, max_bytes=1000)
    with LocalServer(lambda request: Reply(body=b"y" * 5000)) as server:
        with pytest.raises(FetchError, match="exceeds the cap"):
            HttpClient(settings).download(server.url("/big"), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_requests_name_the_tool():
    with LocalServer(lambda request: Reply(body=b"ok")) as server:
        HttpClient(FAST).get_bytes(server.url("/"))
    assert server.requests[0].headers["User-Agent"].startswith("postercensus/")


def test_a_body_trickling_in_is_stopped_at_the_time_cap_and_not_retried():
    """Each byte arrives well within the socket timeout, so only the time cap can stop it."""
    settings = HttpSettings(backoff=0.01, retries=3, timeout=5, max_body_seconds=0.5)
    with LocalServer(lambda request: Reply(body=b"x" * 10_000, trickle=0.02)) as server:
        started = time.monotonic()
        with pytest.raises(FetchError, match="still arriving after 0.5 s"):
            HttpClient(settings).get_bytes(server.url("/slow"))
        assert time.monotonic() - started < 3
        assert len(server.requests) == 1


def test_a_gzip_encoded_body_arrives_decoded():
    page = b"<OAI-PMH>" + b"record " * 20_000 + b"</OAI-PMH>"
    with LocalServer(lambda request: Reply(body=gzip.compress(page), headers={"Content-Encoding": "gzip"})) as server:
        assert HttpClient(FAST).get_bytes(server.url("/gz")) == page
