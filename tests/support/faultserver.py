"""An HTTP server on 127.0.0.1 that fails a seeded share of requests, for fault-injection tests.

Faults: HTTP 500, a stall past the client's timeout, a body cut off short of its declared
Content-Length, and a connection reset (RST, nothing sent). Every other request is answered by
`handler` (a tests.support.localserver handler), so real captures can be served through it.
"""
from __future__ import annotations

import random
import socket
import struct
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from tests.support.localserver import Handler, Request

FAULTS = ("http500", "timeout", "truncated", "reset")


class FaultyServer:
    """`with FaultyServer(handler, rate=0.2, seed=7, stall=1.5, applies=lambda r: ...) as server:`.

    Which requests fail is drawn from random.Random(seed); the failing ones get the kinds of
    FAULTS in turn. `applies` limits the faults to some requests (default: all).

    `injected` counts the faults sent by kind; `requests` lists every request seen.
    """

    def __init__(self, handler: Handler, *, rate: float, seed: int, stall: float,
                 applies=lambda request: True) -> None:
        self.handler, self.rate, self.stall, self.applies = handler, rate, stall, applies
        self.random = random.Random(seed)
        self.injected: Counter = Counter()
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        outer = self

        class _RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                request = Request(parts.path, dict(parse_qsl(parts.query)), dict(self.headers.items()))
                fault = outer._draw(request)
                if fault == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                    self.connection.close()
                    return
                if fault == "timeout":
                    time.sleep(outer.stall)
                if fault == "http500":
                    self._send(500, b"internal error", {"Content-Type": "text/plain"})
                    return
                reply = outer.handler(request)
                body = reply.body[: len(reply.body) // 2] if fault == "truncated" else reply.body
                if fault == "truncated":
                    self.close_connection = True
                self._send(reply.status, body, reply.headers, length=len(reply.body))

            def _send(self, status: int, body: bytes, headers: dict, length: int | None = None) -> None:
                self.send_response(status)
                for name, value in {"Content-Length": str(len(body) if length is None else length),
                                    **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:  # the client gave up (after a stall): nothing to send to
                    self.close_connection = True

            def log_message(self, *args) -> None:
                return

        class _Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address) -> None:  # resets and stalls end noisily
                return

        self._server = _Server(("127.0.0.1", 0), _RequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def _draw(self, request: Request) -> str | None:
        with self._lock:
            self.requests.append(request)
            if not self.applies(request) or self.random.random() >= self.rate:
                return None
            fault = FAULTS[sum(self.injected.values()) % len(FAULTS)]  # the kinds in turn: a real mix
            self.injected[fault] += 1
            return fault

    def url(self, path: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def __enter__(self) -> "FaultyServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
