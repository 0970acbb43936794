"""Temporary files that name the process writing them, so a later run can clear what a killed one left.

Every file the tool writes goes to a temp file beside its target (os.replace needs one file
system) and is renamed when complete. A process killed in between (kill -9, OOM, power cut)
leaves the temp file behind: harmless to readers, who never look at `.part` names, but it fills
the home over months of scheduled refreshes. The writer's pid is part of the name, so a sweep
removes only files whose writer is gone and never one that a running process (a harvest started
by hand beside a refresh, say) is still writing.
"""
from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

TEMP_SUFFIX = ".part"
_PREFIX = ".pc-"  # hidden, and never a name the tool gives a finished file
_OWNED = re.compile(rf"^{re.escape(_PREFIX)}(\d+)-.*{re.escape(TEMP_SUFFIX)}$")


def make_temp(directory: Path) -> tuple[int, Path]:
    """A new empty temp file in `directory` (created if needed): (open descriptor, path)."""
    directory.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=directory, prefix=f"{_PREFIX}{os.getpid()}-", suffix=TEMP_SUFFIX)
    return handle, Path(name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def sweep_orphans(directories: Iterable[Path]) -> list[Path]:
    """Remove the temp files in `directories` (not below them) whose writer has exited; returns them."""
    removed = []
    for directory in directories:
        try:
            entries = list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            owner = _OWNED.match(entry.name)
            if owner and entry.is_file(follow_symlinks=False) and not _alive(int(owner.group(1))):
                Path(entry.path).unlink(missing_ok=True)
                removed.append(Path(entry.path))
    return removed
