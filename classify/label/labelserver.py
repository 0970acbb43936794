"""The labelling page's local web server: the page, its JSON API and the face/poster files.

Stdlib `http.server` only, bound to 127.0.0.1: one researcher labels on their own machine, so
there is nothing to deploy. Because any web page the researcher has open can also reach
127.0.0.1, the server answers only requests addressed to its own host name (DNS rebinding) and
takes POST bodies only as application/json (a cross-site form cannot send that without a CORS
preflight, which this server never grants).

With a validation sample the page serves that sample's faces in its random order, and neither
the page nor its JSON carries the model's prediction or probability: a coder who sees the
model's guess drifts toward it, and the errors measured would flatter the model.
"""
from __future__ import annotations

import json
import mimetypes
import threading
from dataclasses import asdict
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any, Callable
from urllib.parse import SplitResult, parse_qs, urlsplit

from sqlalchemy import Engine

from postercensus.catalog.schema import LabelPurpose
from postercensus.classify.label import labelqueue
from postercensus.classify.label.labelqueue import Model

DEFAULT_KEYS = {"f": "female", "m": "male", "o": "other"}
RESERVED_KEYS = {"s", "u"}  # skip and undo
LABELLED_BY = "labelling page"
MAX_BATCH = 200
MAX_BODY = 64 * 1024
PAGE_SECURITY = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                 "img-src 'self' data:; connect-src 'self'")


class _Refused(Exception):
    """An HTTP error answer, raised from anywhere in a handler."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


class LabellingServer:
    """`with LabellingServer(engine, home) as server: open(server.url)`; the CLI uses serve_forever()."""

    def __init__(self, engine: Engine, home: Path, keys: dict[str, str] | None = None,
                 model: Model | None = None, port: int = 0, coder: str = LABELLED_BY,
                 validation_sample: str | None = None) -> None:
        self.engine = engine
        self.coder = coder
        self.sample = validation_sample
        self.purpose = LabelPurpose.TRAINING if validation_sample is None else LabelPurpose.VALIDATION
        self.home = Path(home).resolve()
        self.keys = dict(DEFAULT_KEYS if keys is None else keys)
        clashes = RESERVED_KEYS & self.keys.keys()
        if clashes or any(len(key) != 1 for key in self.keys):
            raise ValueError(f"label keys must be single characters other than s (skip) and u (undo): {self.keys}")
        self.model = model
        self.page = resources.files("postercensus.classify.label").joinpath("labelpage.html").read_bytes()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> None:
        """Serve from a background thread (tests, or a caller that opens a browser itself)."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="labelling-server", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def serve_forever(self) -> None:
        """Serve in the calling thread until Ctrl-C."""
        try:
            self._httpd.serve_forever(poll_interval=0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self._httpd.server_close()

    def __enter__(self) -> "LabellingServer":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- what the endpoints do ---------------------------------------------------------------

    def queue(self, n: int, exclude: set[int]) -> dict[str, Any]:
        if self.sample is None:
            faces = [_face_json(face) for face in labelqueue.next_faces(self.engine, n, self.model, exclude)]
        else:
            faces = [_blind_face_json(face)
                     for face in labelqueue.sample_faces(self.engine, self.sample, self.coder, n, exclude)]
        mode = {"mode": self.purpose, "coder": self.coder, "sample": self.sample}
        return {"faces": faces, "keys": self.keys, **mode, **self._progress()}

    def label(self, face_id: int, label: Any) -> dict[str, Any]:
        return {"previous": self._store(face_id, label), **self._progress()}

    def undo(self, face_id: int, restore: Any) -> dict[str, Any]:
        """Put back what the face had before this page labelled it: nothing, or `restore`."""
        if restore is None:
            labelqueue.clear_label(self.engine, face_id, self.coder, self.purpose)
        else:
            self._store(face_id, restore)
        return {"restored": restore, **self._progress()}

    def file_for(self, kind: str, face_id: int) -> Path:
        """The crop or poster file of a face; never anything outside the home (a crafted or
        corrupted path in the catalogue, or a symlink, must not expose other files)."""
        paths = labelqueue.face_files(self.engine, face_id)
        if paths is None:
            raise _Refused(HTTPStatus.NOT_FOUND, f"no face {face_id}")
        relative = paths[0] if kind == "crop" else paths[1]
        path = (self.home / relative).resolve()
        if not path.is_relative_to(self.home) or not path.is_file():
            raise _Refused(HTTPStatus.NOT_FOUND, f"no {kind} file for face {face_id}")
        return path

    def _progress(self) -> dict[str, Any]:
        """Counts per label and faces still to label: every answer carries them, so the page's
        progress line stays right without a request of its own."""
        if self.sample is None:
            return {"counts": labelqueue.label_counts(self.engine),
                    "remaining": labelqueue.count_unlabelled(self.engine)}
        return {"counts": labelqueue.label_counts(self.engine, self.purpose, self.coder, self.sample),
                "remaining": labelqueue.count_sample_remaining(self.engine, self.sample, self.coder)}

    def _store(self, face_id: int, label: Any) -> str | None:
        """Only the configured labels are stored: a typo'd label would silently become a class."""
        if label not in self.keys.values():
            expected = sorted(self.keys.values())
            raise _Refused(HTTPStatus.BAD_REQUEST, f"unknown label {label!r}; expected one of {expected}")
        try:
            return labelqueue.set_label(self.engine, face_id, label, self.coder, self.purpose, self.sample)
        except LookupError as error:
            raise _Refused(HTTPStatus.NOT_FOUND, str(error)) from None


def _face_json(face: labelqueue.QueuedFace) -> dict[str, Any]:
    """The page's view of a face: file URLs instead of home paths."""
    record = asdict(face)
    del record["crop_path"], record["image_path"]
    record["crop_url"] = f"/crop/{face.face_id}"
    record["poster_url"] = f"/poster/{face.face_id}"
    return record


def _blind_face_json(face: labelqueue.QueuedFace) -> dict[str, Any]:
    """A validation face: no prediction, probability or margin keys at all (not even empty ones)."""
    record = _face_json(face)
    for key in ("predicted_label", "probability", "margin"):
        del record[key]
    return record


def _face_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Refused(HTTPStatus.BAD_REQUEST, "face_id must be an integer")
    return value


def _exclude(text: str) -> set[int]:
    try:
        return {int(part) for part in text.split(",") if part}
    except ValueError:
        raise _Refused(HTTPStatus.BAD_REQUEST, "exclude must be comma-separated face ids") from None


def _handler_for(server: LabellingServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self._answer(self._get)

        def do_POST(self) -> None:  # noqa: N802
            self._answer(self._post)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: one stderr line per crop would bury the CLI's own messages."""

        def _answer(self, route: Callable[[SplitResult], None]) -> None:
            try:
                if self.headers.get("Host") not in {f"127.0.0.1:{server.port}", f"localhost:{server.port}"}:
                    raise _Refused(HTTPStatus.FORBIDDEN, "unexpected Host header")
                route(urlsplit(self.path))
            except _Refused as refused:
                self.close_connection = True  # a refused POST's body may be unread
                self._send_json({"error": str(refused)}, refused.status)

        def _get(self, url: SplitResult) -> None:
            parts = url.path.strip("/").split("/")
            if url.path == "/":
                self._send(server.page, "text/html; charset=utf-8", {"Content-Security-Policy": PAGE_SECURITY})
            elif url.path == "/api/queue":
                query = parse_qs(url.query)
                n = _int(query.get("n", ["20"])[0])
                exclude = _exclude(query.get("exclude", [""])[0])
                self._send_json(server.queue(max(1, min(n, MAX_BATCH)), exclude))
            elif len(parts) == 2 and parts[0] in {"crop", "poster"} and parts[1].isdigit():
                path = server.file_for(parts[0], int(parts[1]))
                kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                self._send(path.read_bytes(), kind, {"Cache-Control": "max-age=3600"})
            else:
                raise _Refused(HTTPStatus.NOT_FOUND, f"nothing at {url.path}")

        def _post(self, url: SplitResult) -> None:
            body = self._json_body()
            if url.path == "/api/label":
                self._send_json(server.label(_face_id(body.get("face_id")), body.get("label")))
            elif url.path == "/api/undo":
                self._send_json(server.undo(_face_id(body.get("face_id")), body.get("restore")))
            else:
                raise _Refused(HTTPStatus.NOT_FOUND, f"nothing at {url.path}")

        def _json_body(self) -> dict[str, Any]:
            if self.headers.get_content_type() != "application/json":
                raise _Refused(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send application/json")
            length = _int(self.headers.get("Content-Length", "0"))
            if not 0 < length <= MAX_BODY:
                raise _Refused(HTTPStatus.BAD_REQUEST, "missing or oversized body")
            try:
                body = json.loads(self.rfile.read(length))
            except (ValueError, UnicodeDecodeError):
                raise _Refused(HTTPStatus.BAD_REQUEST, "body is not JSON") from None
            if not isinstance(body, dict):
                raise _Refused(HTTPStatus.BAD_REQUEST, "body must be a JSON object")
            return body

        def _send_json(self, payload: dict[str, Any], status: HTTPStatus = HTTPStatus.OK) -> None:
            self._send(json.dumps(payload).encode("utf-8"), "application/json", {"Cache-Control": "no-store"}, status)

        def _send(self, body: bytes, content_type: str, headers: dict[str, str],
                  status: HTTPStatus = HTTPStatus.OK) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Content-Type-Options", "nosniff")
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

    return Handler


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise _Refused(HTTPStatus.BAD_REQUEST, f"not a number: {text!r}") from None
