"""The tests left out of the fast subset (`pytest -m "not slow"`), by measurement.

Measured with `nice -n 10 pytest --durations=0` on the project's 2-core machine while other work
ran on it (seconds: setup + call + teardown). The rule: a test is slow at ≥ 3 s; a module is slow
when a fixture it shares costs ≥ 10 s (listing its first test alone would charge that fixture to
the next one). Re-measure when you add a test that trains, refreshes or drives a browser
(docs/contributing.md).
"""
from __future__ import annotations

SLOW_MODULES: frozenset[str] = frozenset({
    "test_classify_transfer.py",  # 106 s: the transfer fixture trains on the base CNNs (79 s)
    "test_classify_vggface_training.py",  # 54 s: two fine-tuning fixtures (30 s, 10 s)
    "test_fault_malformed.py",  # 16 s: the fixture harvests and refreshes 100 malformed inputs
})

SLOW_TESTS: frozenset[str] = frozenset({
    "test_fault_kill.py::test_refresh_killed_ten_times_then_rerun_equals_an_uninterrupted_refresh",  # 36 s
})
