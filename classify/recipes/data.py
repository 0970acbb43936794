"""Where the default model's recipe reads its data, and how it reports: the shared data folder and stderr.

The recipe (and the benchmarks that measure it) read the real data under ../shared/data beside
the repository, never copied into it; a missing folder exits 0 with a line saying so, since the
data are optional for anyone who only uses the shipped model.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("POSTERCENSUS_DATA", REPO.parent / "shared" / "data"))


def require_data(*folders: Path) -> None:
    """Exit 0 with a clear message when the shared data is absent (the recipe and benchmarks are optional)."""
    missing = [str(folder) for folder in folders if not folder.exists()]
    if missing:
        print(f"skipped: shared data not found ({', '.join(missing)}); set POSTERCENSUS_DATA to its folder")
        sys.exit(0)


def progress(message: str) -> None:
    """Progress goes to stderr so stdout holds only the results."""
    print(message, file=sys.stderr, flush=True)
