"""One memo for values that depend on their key alone: a thread-safe, bounded, least-recently-used map.

Why one: the share corrections (`analysis.shares`) and the prevalence bootstrap's matrix
factorisations (`classify.prevalence.estimate`) each recompute the same value for the same content many
times per dashboard view, and each had its own copy of an OrderedDict with a lock. Here is that
copy, once. The key must say everything the value depends on (the content: counts, array bytes),
so a remembered value is the one a fresh computation gives; the bound keeps memory flat however
long the dashboard's server runs; the lock lets its threads share it.

The value is computed outside the lock, so two threads asking at once for a new key may both
compute it: the results are equal by the rule above, and the later one is kept.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class Memo(Generic[V]):
    """`get(key, compute)`: the value remembered for `key`, else compute()'s, kept for the last `size` keys."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"a memo keeps at least one value, not {size}")
        self.size = size
        self._values: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The value for `key`: remembered (and marked recently used), or computed now and remembered."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = compute()
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget every value (a test compares a fresh computation with a remembered one)."""
        with self._lock:
            self._values.clear()

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._values
