"""Write a file so that readers see the old content or the new, never half of either.

Crops, CSV exports and the home's config are all read by people and later runs; a killed
process must not leave a truncated file under the final name. Temp file beside the target
(same file system) + os.replace, the temp file removed if writing fails, and by
`tempfiles.sweep_orphans` if the writer is killed.
"""
from __future__ import annotations

import os
from pathlib import Path

from postercensus.catalog.tempfiles import make_temp

READABLE_FILE_MODE = 0o644


def write_atomically(target: Path, data: bytes) -> None:
    handle, temp = make_temp(target.parent)  # named after this process: a later sweep clears it if we are killed
    try:
        with os.fdopen(handle, "wb") as stream:
            os.fchmod(stream.fileno(), READABLE_FILE_MODE)  # mkstemp makes 0600; results are shared
            stream.write(data)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
