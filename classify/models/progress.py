"""How long classify work reports progress, without knowing about terminals.

A step is announced with a message (what is being done), the unit it counts and how many it
will count (None when it counts nothing); the announcement returns the function that advances
it. The CLI draws these as the progress bars every other stage shows; a caller that passes
nothing gets silence.
"""
from __future__ import annotations

from collections.abc import Callable

from postercensus.catalog.stage import Progress

Step = Callable[[str, str, int | None], Progress]


def ignore(done: int) -> None:
    """A Progress that reports nowhere."""


def quiet(message: str, unit: str, total: int | None) -> Progress:
    """A Step that reports nowhere."""
    return ignore
