"""A handler for tests.support.localserver that fails a seeded share of requests (fault injection).

Faults: HTTP 500, a stall past the client's timeout, a body cut off short of its declared
Content-Length, and a connection reset (RST, nothing sent). Every other request is answered by
the wrapped handler, so real captures can be served through it:
`with LocalServer(FaultInjector(handler, rate=0.2, seed=7, stall=1.5)) as server: ...`.
"""
from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import replace

from tests.support.localserver import Handler, Reply, Request

FAULTS = ("http500", "timeout", "truncated", "reset")


class FaultInjector:
    """Which requests fail is drawn from random.Random(seed); the failing ones get the kinds of
    FAULTS in turn. `applies` limits the faults to some requests (default: all). `injected`
    counts the faults sent by kind.
    """

    def __init__(self, handler: Handler, *, rate: float, seed: int, stall: float,
                 applies=lambda request: True) -> None:
        self.handler, self.rate, self.stall, self.applies = handler, rate, stall, applies
        self.random = random.Random(seed)
        self.injected: Counter = Counter()
        self._lock = threading.Lock()

    def _draw(self, request: Request) -> str | None:
        with self._lock:
            if not self.applies(request) or self.random.random() >= self.rate:
                return None
            fault = FAULTS[sum(self.injected.values()) % len(FAULTS)]  # the kinds in turn: a real mix
            self.injected[fault] += 1
            return fault

    def __call__(self, request: Request) -> Reply:
        fault = self._draw(request)
        if fault == "reset":
            return Reply(reset=True)
        if fault == "http500":
            return Reply(500, b"internal error", {"Content-Type": "text/plain"})
        if fault == "timeout":
            time.sleep(self.stall)
        reply = self.handler(request)
        return replace(reply, drop_after=len(reply.body) // 2) if fault == "truncated" else reply
