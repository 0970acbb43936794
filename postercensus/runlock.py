"""`<home>/.refresh.lock`: one refresh per home at a time.

A scheduled refresh that outlasts its interval must not start a second one over the same
catalogue and output files. `flock` is released by the kernel when the holder exits, however it
exits, so a killed run never leaves a stale lock behind; the file itself stays and only carries
the holder's pid for the message.
"""
from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from postercensus.catalog.layout import HomeLayout

class RefreshRunning(Exception):
    """Another process holds the home's refresh lock."""

    def __init__(self, path: Path, pid: str) -> None:
        super().__init__(f"another refresh is running (pid {pid or 'unknown'}) on this home; "
                         f"it holds {path} — this run did nothing; try again when it has finished")


@contextmanager
def refresh_lock(home: Path) -> Iterator[Path]:
    """Hold the lock for the block, or raise RefreshRunning at once (never wait)."""
    home.mkdir(parents=True, exist_ok=True)
    path = HomeLayout(home).refresh_lock
    with path.open("a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise RefreshRunning(path, handle.read().strip()) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield path
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
