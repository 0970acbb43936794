"""What a scheduled refresh costs when little or nothing changed, against the full run.

A CSV collection as many archives export it: N items whose images are synthetic posters (real
NK poster faces pasted on poster-sized backgrounds, see bench_support) and whose titles, dates,
subjects and descriptions are the real WPA records, reused in turn. Three `postercensus
refresh` runs, each timed as the whole command a scheduler starts (process start, imports,
lock, every stage, export and dashboard):

  full       the first refresh of N items (harvest, faces, classify, text, analyze, export, dashboard)
  no change  the same refresh again                      target ≤ 2 % of the full run
  10 % new   after N/10 new rows are appended to the CSV  target ≤ 15 % of the full run

    python benchmarks/refresh_incremental.py [--items N] [--workers W]
"""
from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import tomli_w

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_support import DATA, NK_FACES, PosterFactory, cpu_count, print_table, progress, require_data, timed  # noqa: E402

WPA_CSV = DATA / "wpa-posters" / "posters-wpa-posters-2024-02-11.csv"
NO_CHANGE_TARGET, TEN_PERCENT_TARGET = 0.02, 0.15
COLUMNS = ("id", "title", "date", "subjects", "description", "image")


def wpa_records() -> list[dict[str, str]]:
    with WPA_CSV.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def write_collection(folder: Path, count: int, factory: PosterFactory, records: list[dict[str, str]]) -> None:
    """Append rows (and their posters) until the CSV holds `count` items; earlier rows stay as they are."""
    images = folder / "images"
    images.mkdir(parents=True, exist_ok=True)
    csv_path = folder / "items.csv"
    existing = sum(1 for _ in csv_path.open(encoding="utf-8")) - 1 if csv_path.exists() else 0
    with csv_path.open("a", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=COLUMNS)
        if existing == 0:
            writer.writeheader()
        for index in range(existing, count):
            record = records[index % len(records)]
            name = f"poster-{index:05d}.jpg"
            (images / name).write_bytes(factory.poster(index))
            writer.writerow({"id": f"item-{index:05d}", "title": record["title"], "date": record["date"],
                             "subjects": record["subjects"], "description": record["description"],
                             "image": f"images/{name}"})


def register_source(home: Path, csv_path: Path) -> None:
    """The entry `postercensus harvest csv` would write, so the first refresh does the harvest too."""
    home.mkdir(parents=True, exist_ok=True)
    source = {"key": f"csv:{csv_path}", "kind": "csv",
              "params": {"path": str(csv_path), "images": str(csv_path.parent), "keywords_sep": ";",
                         "keywords_column": "subjects"}}
    (home / "postercensus.toml").write_text(tomli_w.dumps({"sources": [source]}), encoding="utf-8")


def refresh(home: Path, workers: int) -> float:
    """Wall-clock seconds of one `postercensus refresh` subprocess; exits on a failed refresh."""
    command = [sys.executable, "-c", "from postercensus.cli import main; main()", "--home", str(home), "refresh", "--workers", str(workers)]
    with timed() as watch:
        done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode not in (0, 2):
        sys.exit(f"refresh failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    summary = [line for line in done.stdout.splitlines() if line.startswith("│")]
    progress("\n".join(summary))
    return watch.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=500, help="items in the full run (default 500)")
    parser.add_argument("--workers", type=int, default=cpu_count(), help="face-detection processes")
    args = parser.parse_args()
    require_data(WPA_CSV, NK_FACES)

    root = Path(tempfile.mkdtemp(prefix="refresh-bench-"))
    try:
        collection, home = root / "collection", root / "home"
        factory, records = PosterFactory(seed=0), wpa_records()
        write_collection(collection, args.items, factory, records)
        register_source(home, collection / "items.csv")
        progress(f"full refresh of {args.items} items ({args.workers} workers) …")
        full = refresh(home, args.workers)
        progress("refresh with no upstream change …")
        unchanged = refresh(home, args.workers)
        added = args.items // 10
        write_collection(collection, args.items + added, factory, records)
        progress(f"refresh after {added} new items …")
        ten_percent = refresh(home, args.workers)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    rows = [
        (f"full ({args.items} items)", f"{full:.1f}", "1.000", ""),
        ("no upstream change", f"{unchanged:.1f}", f"{unchanged / full:.3f}",
         f"≤ {NO_CHANGE_TARGET:.2f} {'met' if unchanged / full <= NO_CHANGE_TARGET else 'NOT met'}"),
        (f"10 % new ({added} items)", f"{ten_percent:.1f}", f"{ten_percent / full:.3f}",
         f"≤ {TEN_PERCENT_TARGET:.2f} {'met' if ten_percent / full <= TEN_PERCENT_TARGET else 'NOT met'}"),
    ]
    print_table(("refresh", "seconds", "of full", "target"), rows,
                f"postercensus refresh, whole command, {cpu_count()} cores, {args.workers} face workers")


if __name__ == "__main__":
    main()
