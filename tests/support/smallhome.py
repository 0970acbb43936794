"""A small real home for the Home/Stage/notebook tests: three generated posters with real NK faces,
harvested from a CSV with dates, keywords and descriptions that mention women and men."""
from __future__ import annotations

import csv
from pathlib import Path

from tests.support.cli import run_cli
from tests.support.posters import small_poster

INLINE = ("--workers", "1")
ROWS = [
    {"id": "p1", "title": "Harvest", "date": "1950", "subjects": "agriculture; women",
     "description": "A woman tractor driver and two male workers in the fields."},
    {"id": "p2", "title": "Steel", "date": "1956", "subjects": "industry",
     "description": "A steel worker beside his mother."},
    {"id": "p3", "title": "Harvest again", "date": "1962", "subjects": "agriculture",
     "description": "Girls of the cooperative farm."},
]


def harvested_home(shared_data: Path, root: Path) -> Path:
    """`root`/home with the three posters harvested (nothing else run yet)."""
    folder, home = root / "collection", root / "home"
    folder.mkdir(parents=True)
    for index, row in enumerate(ROWS):
        small_poster(shared_data, index).save(folder / f"{row['id']}.jpg")
    with (folder / "posters.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*ROWS[0], "image"])
        writer.writeheader()
        writer.writerows({**row, "image": f"{row['id']}.jpg"} for row in ROWS)
    result = run_cli(home, "harvest", "csv", str(folder / "posters.csv"), *INLINE)
    assert result.exit_code == 0, result.output
    return home
