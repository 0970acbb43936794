"""A throwaway HTTP server on 127.0.0.1 whose answers a test decides per request.

Tests replay real captures through it, so the harvesters run their real HTTP code paths
(retries, streaming, size caps) without any network beyond the loopback address.
"""
from __future__ import annotations

import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Reply:
    """What the server sends back; `drop_after` cuts the connection after that many body bytes,
    `reset` drops it with a TCP reset before sending anything, `trickle` sends the body one byte
    per that many seconds."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop_after: int | None = None
    reset: bool = False
    trickle: float | None = None


@dataclass(frozen=True)
class Request:
    path: str
    query: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Reply]


class LocalServer:
    """Context manager: `with LocalServer(handler) as server: server.url("/x")`."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        outer = self

        class _RequestHandler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                parts = urlsplit(self.path)
                request = Request(parts.path, dict(parse_qsl(parts.query)), dict(self.headers.items()))
                outer.requests.append(request)
                reply = outer.handler(request)
                if reply.reset:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                    self.connection.close()
                    return
                self.send_response(reply.status)
                headers = {"Content-Length": str(len(reply.body)), **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                body = reply.body if reply.drop_after is None else reply.body[: reply.drop_after]
                try:
                    if reply.trickle is None:
                        self.wfile.write(body)
                    else:
                        for byte in body:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(reply.trickle)
                except OSError:  # the client gave up (e.g. after a stall past its timeout)
                    self.close_connection = True
                if reply.drop_after is not None:
                    self.close_connection = True

            def log_message(self, *args) -> None:
                return

        class _Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address) -> None:  # resets and stalls end noisily
                return

        self._server = _Server(("127.0.0.1", 0), _RequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def __enter__(self) -> "LocalServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
