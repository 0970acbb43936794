"""kill -9 of `postercensus refresh` at ten moments, then a rerun: the catalogue equals an uninterrupted run's.

A collection a researcher would have (a CSV export whose rows describe gendered people and point
at scans with real faces) is registered with `harvest csv` and then grows; home A refreshes it
once without interruption (the reference), home B is refreshed ten times and each time killed
with SIGKILL, then refreshed to completion. The kill moments come from a seeded RNG over the
reference run's timeline: the i-th kill targets stage i (cycling through harvest, faces,
classify, text, analyze, export, dashboard) at a random offset within that stage's reference
duration, counted from the moment the live run announces the stage. Both catalogues are read
with plain sqlite3 and compared on natural keys (source item ids, content hashes, face indexes),
never on run ids, timestamps or autoincrement ids. `pytest -s` prints where each kill landed.
"""
from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.support.cli import run_cli
from tests.support.facedb import query, rows
from tests.support.posters import small_poster

POSTERS = 8
KILLS = 10
SEED = 20240611
STAGES = ("harvest", "faces detect", "classify predict", "keywords", "text extract", "analyze", "export",
          "dashboard build")
DESCRIPTIONS = (
    "A woman tractor driver and male workers bring in the harvest.",
    "Two soldiers say goodbye; a nurse and a mother wave from the station.",
    "Girls and boys of the youth brigade march past the factory.",
    "A policeman helps an old woman across the street.",
)
FLOAT_TOLERANCE = 1e-4
EXPORT_IDS = ("face_id", "item_id")  # autoincrement ids in the export; everything else must match
# The `postercensus` command installed beside this interpreter: what a user or cron runs.
COMMAND = str(Path(sys.executable).with_name("postercensus"))


# -- the collection --------------------------------------------------------------------------

def _write_export(csv_path: Path, posters: int, first_description: str) -> None:
    """The CSV a library exports: one row per poster, its scan named relative to the CSV."""
    records = [{"id": f"P{index:03d}", "title": f"Poster {index}", "date": str(1938 + index),
                "keywords": "war;women" if index % 2 else "labour;agriculture",
                "description": first_description if index == 0 else DESCRIPTIONS[index % len(DESCRIPTIONS)],
                "image": f"scans/poster{index}.jpg"} for index in range(posters)]
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)


@pytest.fixture(scope="module")
def homes(shared_data, tmp_path_factory) -> tuple[Path, Path]:
    """Homes A and B that registered the same export with `harvest csv` (two rows then), after which
    it grew to POSTERS rows and the first description was edited: the refreshes have work in every stage."""
    root = tmp_path_factory.mktemp("kill")
    for index in range(POSTERS):
        small_poster(shared_data, index).save(root / "collection" / "scans" / f"poster{index}.jpg")
    export = root / "collection" / "posters.csv"
    _write_export(export, 2, "A poster of the harvest.")
    pair = root / "A", root / "B"
    for home in pair:
        registered = run_cli(home, "harvest", "csv", str(export), "--workers", "1")
        assert registered.exit_code == 0, registered.output
    _write_export(export, POSTERS, DESCRIPTIONS[0])
    return pair


# -- refresh subprocesses --------------------------------------------------------------------

def _now() -> str:
    """UTC wall clock in the catalogue's timestamp format, to place run records around a kill."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


@dataclass
class Refresh:
    """A `postercensus refresh` subprocess in its own session, its stderr lines timed as they arrive."""

    home: Path
    process: subprocess.Popen = field(init=False)
    began: float = field(init=False)
    began_at: str = field(init=False)
    lines: list[tuple[float, str]] = field(default_factory=list)
    stdout: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    def __post_init__(self) -> None:
        self.began_at = _now()
        self.began = time.monotonic()
        self.process = subprocess.Popen([COMMAND, "--home", str(self.home), "refresh", "--workers", "1"],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        start_new_session=True)
        self._readers = [threading.Thread(target=self._read_stderr, daemon=True),
                         threading.Thread(target=lambda: self.stdout.extend(self.process.stdout), daemon=True)]
        for reader in self._readers:
            reader.start()

    def _read_stderr(self) -> None:
        for line in self.process.stderr:
            self.lines.append((time.monotonic() - self.began, line.rstrip("\n")))

    def stage_starts(self) -> dict[str, float]:
        """Seconds after the start at which each stage was announced (`<stage> …` on stderr)."""
        starts: dict[str, float] = {}
        for at, line in list(self.lines):
            stage = next((name for name in STAGES if line.startswith(name) and line.endswith(" …")), None)
            if stage is not None:
                starts.setdefault(stage, at)
        return starts

    def stage_at(self, moment: float) -> str:
        """The stage announced last before `moment` ("startup" before the first)."""
        announced = [(at, stage) for stage, at in self.stage_starts().items() if at <= moment]
        return max(announced)[1] if announced else "startup"

    def finish(self, timeout: float = 120) -> int:
        code = self.process.wait(timeout)
        for reader in self._readers:
            reader.join(timeout)
        self.elapsed = time.monotonic() - self.began
        return code

    def kill_at(self, stage: str, offset: float) -> float | None:
        """SIGKILL the process group `offset` s after `stage` is announced; the kill's moment, or
        None when the run ended first."""
        while self.process.poll() is None:
            announced = self.stage_starts().get(stage)
            if announced is not None and time.monotonic() - self.began >= announced + offset:
                moment = time.monotonic() - self.began
                os.killpg(self.process.pid, signal.SIGKILL)
                return moment if self.finish() == -signal.SIGKILL else None  # or it had just ended
            time.sleep(0.005)
        self.finish()
        return None

    @property
    def stderr(self) -> str:
        return "\n".join(line for _, line in self.lines)


def _kill_plan(reference: Refresh) -> list[tuple[str, float]]:
    """(stage, seconds after its announcement) for each kill: a seeded random moment inside each
    stage's span in the reference run, the stages taken in order, cycling."""
    starts = reference.stage_starts()
    assert list(starts) == list(STAGES), reference.stderr
    ends = [*list(starts.values())[1:], reference.elapsed]
    spans = {stage: end - start for (stage, start), end in zip(starts.items(), ends)}
    rng = random.Random(SEED)
    return [(stage, rng.uniform(0, spans[stage])) for stage in (STAGES[i % len(STAGES)] for i in range(KILLS))]


# -- the catalogue, read on natural keys -----------------------------------------------------

def _json(value: str | None):
    return None if value is None else json.loads(value)


def _keyed(home: Path, sql: str, key_columns: int, json_columns: tuple[str, ...] = ()) -> dict[tuple, tuple]:
    """Rows of `sql` as {first key_columns values: the rest}, JSON columns decoded; a repeated key fails."""
    keyed: dict[tuple, tuple] = {}
    for row in query(home, sql):
        values = tuple(_json(row[name]) if name in json_columns else row[name] for name in row.keys())
        key = values[:key_columns]
        assert key not in keyed, f"{home.name}: duplicate natural key {key} in {sql}"
        keyed[key] = values[key_columns:]
    return keyed


ITEM = "(SELECT source_item_id FROM items WHERE items.id = {table}.item_id)"
FACE = "(SELECT image_sha256 || ':' || face_index FROM faces WHERE faces.id = predictions.face_id)"


def catalogue(home: Path) -> dict[str, dict[tuple, tuple]]:
    """Every table a researcher reads, keyed on natural keys, without run ids, timestamps or row ids."""
    return {
        "sources": _keyed(home, "SELECT key, kind, location, params, watermark FROM sources", 1, ("params",)),
        "items": _keyed(home, "SELECT source_item_id, title, date, year, keywords, source_keywords, description, "
                              "creator, rights, landing_url, datestamp, deleted, content_hash, raw FROM items", 1,
                        ("keywords", "source_keywords", "raw")),
        "item_versions": _keyed(home, f"SELECT {ITEM.format(table='item_versions')} AS item, change, content_hash, "
                                      "fields FROM item_versions", 3, ("fields",)),
        "images": _keyed(home, f"SELECT {ITEM.format(table='images')} AS item, origin, position, label, sha256, "
                               "path, format, width, height, bytes, status, error, attempts FROM images", 2),
        "face_sets": _keyed(home, "SELECT parameter_hash, detector, parameters FROM face_sets", 1, ("parameters",)),
        "face_scans": _keyed(home, "SELECT image_sha256, parameter_hash, status, error, width, height, face_count "
                                   "FROM face_scans", 2),
        "faces": _keyed(home, 'SELECT image_sha256, parameter_hash, face_index, "left", top, "right", bottom, score, '
                              "detectors, landmarks5, landmarks68, embedding, crop_path FROM faces", 3,
                        ("detectors", "landmarks5", "landmarks68", "embedding")),
        "classifier_models": _keyed(home, "SELECT model_id, model_version, backbone, labels, location "
                                          "FROM classifier_models", 2, ("labels",)),
        "predictions": _keyed(home, f"SELECT {FACE} AS face, model_id, model_version, label, top_label, probability, "
                                    "margin, probabilities, threshold FROM predictions", 3, ("probabilities",)),
        "text_scans": _keyed(home, f"SELECT {ITEM.format(table='text_scans')} AS item, version_hash, text_hash, "
                                   "mention_count, warning FROM text_scans", 2),
        "mentions": _keyed(home, f"SELECT {ITEM.format(table='mentions')} AS item, version_hash, start, \"end\", "
                                 "trigger, text_hash, gender, role, role_lemma, category, sentence, in_title "
                                 "FROM mentions", 5),
        "catalog_settings": _keyed(home, "SELECT name, value FROM catalog_settings", 1, ("value",)),
    }


def _close(left, right) -> bool:
    """Equal, floats within FLOAT_TOLERANCE (embeddings and probabilities are recomputed after a kill)."""
    if isinstance(left, float) or isinstance(right, float):
        return isinstance(left, (int, float)) and isinstance(right, (int, float)) and \
            math.isclose(left, right, rel_tol=0, abs_tol=FLOAT_TOLERANCE)
    if isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
        return len(left) == len(right) and all(_close(a, b) for a, b in zip(left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_close(left[key], right[key]) for key in left)
    return left == right


def _differences(reference: dict[str, dict], other: dict[str, dict]) -> list[str]:
    problems = []
    for table, expected in reference.items():
        found = other[table]
        if len(found) != len(expected):
            problems.append(f"{table}: {len(found)} rows, uninterrupted run has {len(expected)}")
        for key in expected.keys() ^ found.keys():
            problems.append(f"{table}: key {key} only in {'reference' if key in expected else 'killed home'}")
        problems += [f"{table} {key}: {found[key]} != {expected[key]}"
                     for key in expected.keys() & found.keys() if not _close(expected[key], found[key])]
    return problems


ORPHANS = {
    "images without an item": "SELECT count(*) FROM images LEFT JOIN items ON items.id = images.item_id "
                              "WHERE items.id IS NULL",
    "faces without a scan": "SELECT count(*) FROM faces LEFT JOIN face_scans s ON s.image_sha256 = faces.image_sha256 "
                            "AND s.parameter_hash = faces.parameter_hash WHERE s.id IS NULL",
    "scans of no stored image": "SELECT count(*) FROM face_scans WHERE image_sha256 NOT IN "
                                "(SELECT sha256 FROM images WHERE sha256 IS NOT NULL)",
    "scans whose face count is off": "SELECT count(*) FROM face_scans s WHERE face_count != (SELECT count(*) "
                                     "FROM faces f WHERE f.image_sha256 = s.image_sha256 "
                                     "AND f.parameter_hash = s.parameter_hash)",
    "predictions without a face": "SELECT count(*) FROM predictions LEFT JOIN faces ON faces.id = predictions.face_id "
                                  "WHERE faces.id IS NULL",
    "mentions without a scan": "SELECT count(*) FROM mentions m LEFT JOIN text_scans s ON s.item_id = m.item_id "
                               "AND s.version_hash = m.version_hash WHERE s.id IS NULL",
    "scans whose mention count is off": "SELECT count(*) FROM text_scans s WHERE mention_count != (SELECT count(*) "
                                        "FROM mentions m WHERE m.item_id = s.item_id "
                                        "AND m.version_hash = s.version_hash)",
}


def _orphan_rows(home: Path) -> dict[str, int]:
    counts = {name: rows(home, sql)[0][0] for name, sql in ORPHANS.items()}
    return {name: count for name, count in counts.items() if count}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(folder: Path) -> dict[str, str]:
    """Every file below `folder` (relative to its parent, as the catalogue names them): its sha256."""
    return {path.relative_to(folder.parent).as_posix(): _sha256(path)
            for path in sorted(folder.rglob("*")) if path.is_file()}


def _export(home: Path) -> dict[str, object]:
    """The export's CSVs as sorted rows without autoincrement ids, and the other files' names."""
    exported: dict[str, object] = {}
    for path in sorted((home / "export").iterdir()):
        if path.suffix != ".csv":
            exported[path.name] = "present"
            continue
        with path.open(newline="", encoding="utf-8") as handle:
            records = [{column: value for column, value in record.items() if column not in EXPORT_IDS}
                       for record in csv.DictReader(handle)]
        exported[path.name] = sorted(json.dumps(record, sort_keys=True) for record in records)
    return exported


# -- the test --------------------------------------------------------------------------------

@dataclass
class Kill:
    target: str
    offset: float
    moment: float | None  # seconds after the start; None: the run finished first
    landed: str  # the stage announced last before the kill
    began_at: str
    killed_at: str
    left_open: list[str]  # stages of the run records the kill left `running`


def _summary_row(stdout: str, stage: str) -> str:
    lines = [line for line in stdout.splitlines() if line.startswith("│") and line.strip("│ ").startswith(stage)]
    assert len(lines) == 1, stdout
    return lines[0]


def test_refresh_killed_ten_times_then_rerun_equals_an_uninterrupted_refresh(homes):
    clock = time.monotonic()
    reference_home, killed_home = homes

    reference = Refresh(reference_home)
    assert reference.finish() == 0, reference.stderr
    plan = _kill_plan(reference)

    kills: list[Kill] = []
    for target, offset in plan:
        run = Refresh(killed_home)
        moment = run.kill_at(target, offset)
        assert "another refresh is running" not in run.stderr, "flock is released when its holder is killed"
        assert moment is not None or run.process.returncode == 0, run.stderr
        left_open = [stage for (stage,) in
                     rows(killed_home, "SELECT stage FROM runs WHERE status = 'running' ORDER BY id")]
        kills.append(Kill(target, offset, moment, "finished" if moment is None else run.stage_at(moment),
                          run.began_at, _now(), left_open))
        assert not _orphan_rows(killed_home), f"after kill {len(kills)}: {_orphan_rows(killed_home)}"
        catalogue(killed_home)  # fails on a duplicate natural key left by a half-done transaction

    completed = Refresh(killed_home)
    assert completed.finish() == 0, completed.stderr
    again = Refresh(killed_home)
    assert again.finish() == 0, again.stderr
    stdout = "".join(again.stdout)

    # the second completion run finds no new work anywhere, and no cache claims to be stale or current wrongly
    harvest = _summary_row(stdout, "harvest")
    assert "new 0, updated 0, deleted 0" in harvest and "images_stored 0" in harvest, stdout
    assert "images_scanned 0" in _summary_row(stdout, "faces detect")
    assert "predicted 0, relabelled 0" in _summary_row(stdout, "classify predict")
    assert "items 0" in _summary_row(stdout, "text extract")
    assert "unchanged" in _summary_row(stdout, "analyze")
    for stage in ("export", "dashboard build"):
        assert "is current" in _summary_row(stdout, stage), stdout

    # the catalogue equals the uninterrupted one, row for row on natural keys
    expected, found = catalogue(reference_home), catalogue(killed_home)
    assert all(expected[table] for table in ("items", "images", "faces", "predictions", "mentions")), \
        "the collection exercises every stage"
    assert not _differences(expected, found), "\n".join(_differences(expected, found))
    for home in homes:
        assert not _orphan_rows(home), _orphan_rows(home)

    # files: every image and crop the catalogue names, nothing else, no temp file anywhere
    for home in homes:
        stored = {path: sha for path, sha in _files(home / "images").items() if "/incoming/" not in path}
        assert stored == {path: sha for (path, sha) in
                          rows(home, "SELECT path, sha256 FROM images WHERE path IS NOT NULL")}, home.name
        crops = rows(home, "SELECT crop_path FROM faces")
        assert sorted(_files(home / "faces")) == sorted(path for (path,) in crops), f"{home.name}: orphan crops"
        assert not [path for path in home.rglob("*") if path.name.endswith(".part")], f"{home.name}: temp files"
    assert _files(killed_home / "images") == _files(reference_home / "images")
    assert _files(killed_home / "faces") == _files(reference_home / "faces")
    assert _export(killed_home) == _export(reference_home)
    assert (killed_home / "dashboard.html").read_text(encoding="utf-8").rstrip().endswith("</html>")

    # provenance: no run a kill cut short claims to have finished
    assert rows(killed_home, "SELECT count(*) FROM runs WHERE status = 'running'") == [(0,)]
    for kill in kills:
        cut_short = rows(killed_home, "SELECT stage, status, finished_at FROM runs WHERE started_at >= ? "
                                      "AND started_at <= ? AND (finished_at IS NULL OR finished_at > ?) ORDER BY id",
                         kill.began_at, kill.killed_at, kill.killed_at)
        assert [stage for stage, _, _ in cut_short] == kill.left_open
        assert all(status == "interrupted" and finished is None for _, status, finished in cut_short), cut_short
    interrupted = rows(killed_home, "SELECT count(*) FROM runs WHERE status = 'interrupted'")[0][0]
    assert interrupted == sum(len(kill.left_open) for kill in kills)

    _report(reference, kills, completed, again, interrupted, time.monotonic() - clock)


def _report(reference: Refresh, kills: list[Kill], completed: Refresh, again: Refresh, interrupted: int,
            elapsed: float) -> None:
    """The figures behind the test, for `pytest -s`."""
    spans = ", ".join(f"{stage} +{at:.2f}s" for stage, at in reference.stage_starts().items())
    print(f"\nreference refresh: {reference.elapsed:.1f} s ({spans})")
    for number, kill in enumerate(kills, 1):
        moment = "run finished first" if kill.moment is None else f"killed at {kill.moment:.2f} s"
        print(f"kill {number:2}: target {kill.target} +{kill.offset:.2f} s, {moment}, landed in {kill.landed}, "
              f"open runs: {', '.join(kill.left_open) or 'none'}")
    print("kills by stage:", dict(Counter(kill.landed for kill in kills)))
    print(f"runs marked interrupted: {interrupted}; completing refresh {completed.elapsed:.1f} s, "
          f"no-work refresh {again.elapsed:.1f} s; test {elapsed:.1f} s")
