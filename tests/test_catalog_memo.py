"""The one memo: a value per key, computed once while remembered, the least recently used forgotten first."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from postercensus.analysis import shares as shares_module
from postercensus.catalog.memo import Memo
from postercensus.classify.prevalence import estimate


def test_a_remembered_key_is_not_computed_again_and_the_oldest_is_forgotten_first():
    memo: Memo[int] = Memo(2)
    calls: list[str] = []

    def computed(key: str, value: int):
        return lambda: calls.append(key) or value

    assert memo.get("a", computed("a", 1)) == 1 and memo.get("b", computed("b", 2)) == 2
    assert memo.get("a", computed("a", 99)) == 1, "remembered, not computed again"
    assert memo.get("c", computed("c", 3)) == 3  # "b" is now the least recently used
    assert "b" not in memo and "a" in memo and "c" in memo and len(memo) == 2
    assert memo.get("b", computed("b", 4)) == 4
    assert calls == ["a", "b", "c", "b"]


def test_an_exception_is_not_remembered():
    memo: Memo[int] = Memo(4)
    with pytest.raises(ZeroDivisionError):
        memo.get("x", lambda: 1 // 0)
    assert "x" not in memo and memo.get("x", lambda: 5) == 5


def test_a_memo_keeps_at_least_one_value():
    with pytest.raises(ValueError, match="at least one"):
        Memo(0)


def test_threads_sharing_a_memo_get_the_computed_values_and_it_stays_bounded():
    memo: Memo[int] = Memo(50)
    errors: list[str] = []

    def work(offset: int) -> None:
        for n in range(400):
            key = (n + offset) % 120
            if memo.get(key, lambda key=key: key * key) != key * key:
                errors.append(f"key {key}")

    threads = [threading.Thread(target=work, args=(offset,)) for offset in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(memo) == 50


def test_shares_and_prevalence_use_the_one_memo_and_remembered_arrays_are_read_only():
    assert isinstance(shares_module._ESTIMATES, Memo) and shares_module._ESTIMATES.size == shares_module.ESTIMATES_KEPT
    assert isinstance(estimate._REMEMBERED, Memo)
    rates = np.array([[[0.9, 0.1], [0.2, 0.8]]])
    first = estimate._remembered("test", rates, lambda: np.ones(3))
    assert not first.flags.writeable
    assert estimate._remembered("test", rates.copy(), lambda: np.zeros(3)) is first, "keyed by content"
