"""Where the face stage's time goes per image: exclusive seconds per step, by wrapping functions in place.

No timing code lives in faces/: for the length of a `with timer.patched(...)` block the named
functions and methods are replaced by timed wrappers, and each step is charged only its own
time (a step's nested timed steps are subtracted), so the rows add up to the wall time of the
profiled calls. Wrapping costs about a microsecond per call, so it is for one-process profiling
runs, never for the throughput figures.
"""
from __future__ import annotations

import functools
import inspect
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Target = tuple[Any, str, str]  # (module, class or instance; attribute name; step label)


class StepTimer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()
        self._nested: list[float] = []

    def wrap(self, function: Callable, label: str) -> Callable:
        @functools.wraps(function)
        def timed(*args, **kwargs):
            start = time.perf_counter()
            self._nested.append(0.0)
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - start
                inner = self._nested.pop()
                self.seconds[label] += elapsed - inner
                self.calls[label] += 1
                if self._nested:
                    self._nested[-1] += elapsed

        return timed

    @contextmanager
    def patched(self, targets: list[Target]) -> Iterator["StepTimer"]:
        """Time every (owner, attribute) in `targets` that exists, restoring the originals afterwards."""
        originals = []
        for owner, attribute, label in targets:
            original = inspect.getattr_static(owner, attribute, None) if isinstance(owner, type) else getattr(owner, attribute, None)
            if original is None or not callable(original):
                continue
            originals.append((owner, attribute, original))
            setattr(owner, attribute, self.wrap(original, label))
        try:
            yield self
        finally:
            for owner, attribute, original in reversed(originals):
                setattr(owner, attribute, original)


def detector_targets(prefix: str = "faces.") -> list[Target]:
    """Every class with a `detect` method in the loaded faces modules: one step per detector.

    Found at run time, so detectors added later are profiled without changing this file; the
    wrappers (Resized, Tiled) and the ensemble get their own rows for the work they do themselves
    (resizing is charged to the cv2.resize row, vote and merge to the ensemble's).
    """
    targets = []
    for name, module in list(sys.modules.items()):
        if not name.startswith(prefix) or module is None:
            continue
        for cls in vars(module).values():
            if isinstance(cls, type) and cls.__module__ == name and "detect" in vars(cls):
                detector = vars(cls).get("name")
                label = f"detect: {detector}" if isinstance(detector, str) else f"detect: {cls.__name__} (own work)"
                if detector == "ensemble":
                    label = "ensemble vote and merge"
                targets.append((cls, "detect", label))
    return targets
