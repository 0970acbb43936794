"""Whether analysis holds at collection scale: `analyze` time and peak memory, and the dashboard's
filter latency, on a synthetic catalogue of N items.

The catalogue is written through the catalogue's own schema (bulk inserts into a migrated
database; SQLite in a temporary home, or a fresh PostgreSQL database when
$POSTERCENSUS_TEST_POSTGRES names a server): N items dated 1900–1990 (5 % undated) with 1–4 of
~200 keywords each (a few common, most rare), one stored image per item (2 % without one, 1 %
failed to decode, 2 % not scanned yet), 2N faces with one prediction each from one registered
model whose card has held-out predictions (so every share is corrected), a few faces labelled
`other` by a person, and N/2 mentions of one text version.

Each measurement runs in a child process of its own, so its peak RSS is its own:

  analyze    `analysis.cache.analyze` (load, every table, CSVs, codebook, provenance)
                                               targets ≤ 60 s and ≤ 2 GB peak RSS
  callback   the Dash app's filter callback (`dashboards.app.make_app`'s `update_figures`, called
             directly, its figures serialised as Dash sends them), over 20 filter changes of years,
             keywords and min probability; the tables are loaded once before (app start)
                                               target p95 ≤ 1 s

    python benchmarks/analysis_scale.py [--items N] [--keep HOME]
    python benchmarks/analysis_scale.py --existing HOME    # measure again a home kept by --keep (SQLite)
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_support import print_table, progress  # noqa: E402

ANALYZE_SECONDS, PEAK_RSS_MB, CALLBACK_P95_SECONDS = 60.0, 2048.0, 1.0
FILTER_CHANGES = 20
CHUNK = 5000
MODEL_ID, MODEL_VERSION = "scale-model", "v1"
FACE_SET, TEXT_VERSION = "scalefaceset0001", "scale-text-version"
LABELS = ("female", "male")
ROLES = ("worker", "nurse", "soldier", "farmer", "mother", "teacher", "welder", "driver", "pilot", "miner",
         "sailor", "clerk", "doctor", "cook", "builder", "student", "volunteer", "citizen", "child", "athlete")
KEYWORDS = [f"keyword {index:03d}" for index in range(200)]
NOW = datetime(2024, 1, 1, tzinfo=timezone.utc)


# -- the synthetic catalogue -------------------------------------------------------------------

def _card(rng: random.Random) -> dict:
    """A model card with 400 held-out faces, about 90 % right, so corrected shares are computed."""
    true, probabilities = [], []
    for index in range(400):
        label = LABELS[index % 2]
        top = rng.uniform(0.5, 1.0)
        right = rng.random() < 0.9
        p_female = top if (label == "female") == right else 1 - top
        true.append(label)
        probabilities.append([p_female, 1 - p_female])
    return {"model_id": MODEL_ID, "labels": list(LABELS),
            "evaluation": {"n": 400, "accuracy": 0.9, "balanced_accuracy": 0.9, "threshold": 0.0},
            "evaluation_note": "synthetic held-out set of the scale benchmark",
            "held_out_predictions": {"true": true, "probabilities": probabilities}}


def _keywords(rng: random.Random) -> list[str]:
    """1–4 distinct keywords, Zipf-like: a few on many items, most on few."""
    count = rng.choice((1, 1, 2, 2, 3, 4))
    return sorted({KEYWORDS[min(int(rng.paretovariate(0.8)) - 1, len(KEYWORDS) - 1)] for _ in range(count)})


def _insert(connection, table, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        connection.execute(table.insert(), rows[start:start + CHUNK])


def synthesise(url: str, items: int, seed: int = 0) -> None:
    """Write the catalogue described in the module docstring into the database at `url`."""
    from postercensus.catalog import schema
    from postercensus.catalog.database import open_engine
    from postercensus.faces.settings import FaceSettings
    from postercensus.text.settings import TextSettings

    rng = random.Random(seed)
    engine = open_engine(url)
    with engine.begin() as db:
        db.execute(schema.sources.insert().values(id=1, key="scale", kind="csv", location="/scale.csv", params={},
                                                  created_at=NOW))
        for run_id, (stage, parameters) in enumerate(
                (("harvest", {}), ("faces", {"parameter_hash": FACE_SET}), ("classify", {}),
                 ("text", {**TextSettings().to_config(), "version_hash": TEXT_VERSION})), start=1):
            db.execute(schema.runs.insert().values(id=run_id, stage=stage, source_id=1, parameters=parameters,
                                                   versions={}, started_at=NOW, finished_at=NOW, status="ok"))
        db.execute(schema.face_sets.insert().values(  # the default settings: the active face set of the home
            parameter_hash=FACE_SET, detector=FaceSettings().detector, parameters=FaceSettings().parameters(),
            model_versions={}, created_at=NOW))
        db.execute(schema.classifier_models.insert().values(
            model_id=MODEL_ID, model_version=MODEL_VERSION, backbone="dlib", labels=list(LABELS), card=_card(rng),
            location="/models/scale", registered_at=NOW))
        item_rows, image_rows, scan_rows, scanned = [], [], [], []
        for item_id in range(1, items + 1):
            year = None if rng.random() < 0.05 else rng.randint(1900, 1990)
            keywords = _keywords(rng)
            item_rows.append({
                "id": item_id, "source_id": 1, "source_item_id": f"item{item_id}", "title": f"Poster {item_id}",
                "date": str(year) if year else "n.d.", "year": year, "keywords": keywords,
                "source_keywords": keywords, "description": "", "landing_url": f"https://example.org/{item_id}",
                "deleted": False, "content_hash": f"{item_id:064d}", "raw": {}, "first_run_id": 1,
                "changed_run_id": 1, "updated_at": NOW})
            draw = rng.random()
            if draw < 0.02:
                continue  # no stored image
            sha = f"{item_id:064x}"
            image_rows.append({"id": item_id, "item_id": item_id, "position": 0, "origin": f"/scale/{item_id}.jpg",
                               "sha256": sha, "path": f"images/{sha[:2]}/{sha}.jpg", "format": "jpeg",
                               "width": 800, "height": 1100, "bytes": 100_000, "status": "ok", "attempts": 1,
                               "fetched_at": NOW})
            if draw < 0.04:
                continue  # not scanned yet
            failed = draw < 0.05
            scan_rows.append({"image_sha256": sha, "parameter_hash": FACE_SET, "run_id": 2,
                              "status": "failed" if failed else "ok", "face_count": 0, "scanned_at": NOW})
            if not failed:
                scanned.append(sha)
        _insert(db, schema.items, item_rows)
        _insert(db, schema.images, image_rows)
        _insert(db, schema.face_scans, scan_rows)
        del item_rows, image_rows, scan_rows
        face_rows, prediction_rows, label_rows = [], [], []
        for face_id in range(1, 2 * items + 1):
            sha = rng.choice(scanned)
            female = rng.random() < 0.35
            probability = rng.uniform(0.5, 1.0)
            label = LABELS[0] if female else LABELS[1]
            left, top = rng.randint(0, 700), rng.randint(0, 1000)
            face_rows.append({"id": face_id, "image_sha256": sha, "parameter_hash": FACE_SET, "face_index": face_id,
                              "left": left, "top": top, "right": left + 60, "bottom": top + 80, "score": 1.0,
                              "detectors": ["hog"], "landmarks5": [], "landmarks68": [], "embedding": [],
                              "crop_path": "", "run_id": 2})
            prediction_rows.append({"id": face_id, "face_id": face_id, "model_id": MODEL_ID,
                                    "model_version": MODEL_VERSION, "label": label, "top_label": label,
                                    "probability": probability, "margin": 2 * probability - 1,
                                    "probabilities": {label: probability, LABELS[female]: 1 - probability},
                                    "threshold": 0.0, "run_id": 3, "predicted_at": NOW})
            if rng.random() < 0.005:
                label_rows.append({"face_id": face_id, "label": "other", "labelled_by": "scale",
                                   "labelled_at": NOW})
        _insert(db, schema.faces, face_rows)
        _insert(db, schema.predictions, prediction_rows)
        _insert(db, schema.face_labels, label_rows)
        del face_rows, prediction_rows, label_rows
        mention_rows = []
        for mention_id in range(1, items // 2 + 1):
            gender, role = rng.choice(LABELS), rng.choice(ROLES)
            mention_rows.append({"id": mention_id, "item_id": rng.randint(1, items), "text_hash": "0" * 64,
                                 "version_hash": TEXT_VERSION, "gender": gender, "trigger": gender, "role": role,
                                 "role_lemma": role, "category": "work", "start": mention_id, "end": mention_id + 1,
                                 "sentence": f"a {gender} {role}", "in_title": rng.random() < 0.05, "run_id": 4})
        _insert(db, schema.mentions, mention_rows)
    if engine.dialect.name == "postgresql":  # explicit ids leave the sequences behind; analyze inserts a run
        with engine.begin() as db:
            db.exec_driver_sql("SELECT setval('runs_id_seq', (SELECT max(id) FROM runs))")
    engine.dispose()


# -- the measurements (each in a child process) ------------------------------------------------

def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def measure_analyze(home: Path, url: str) -> dict:
    from postercensus.analysis.cache import analyze
    from postercensus.catalog.home import Home

    opened = Home(home, url)
    opened.engine  # the catalogue opened (and checked for migrations) before the clock starts
    start = time.perf_counter()
    report = analyze(opened)
    seconds = time.perf_counter() - start
    if report.status != "ok":
        raise SystemExit(f"analyze ended {report.status}: {report.errors}")
    return {"seconds": seconds, "peak_rss_mb": _peak_rss_mb(), "files": len(report.paths)}


def _filter_changes(low: int, high: int, keywords: list[str], rng: random.Random) -> list[tuple]:
    """20 (years, keywords, source, probability) values as the controls send them: narrowed years,
    one to three keywords, and min probabilities, alone and combined."""
    changes = []
    for index in range(FILTER_CHANGES):
        start = rng.randint(low, high - 10)
        years = [start, rng.randint(start + 5, high)] if index % 2 else [low, high]
        chosen = rng.sample(keywords, rng.randint(1, 3)) if index % 3 else None
        probability = rng.choice((0, 0, 0.5, 0.7, 0.9))
        changes.append((years, chosen, None, probability))
    return changes


def measure_callback(home: Path, url: str) -> dict:
    import plotly.io.json

    from postercensus.catalog.home import Home
    from postercensus.dashboards.app import make_app

    start = time.perf_counter()
    app = make_app(Home(home, url), max_age=math.inf)  # tables loaded once: a reload is not a filter change
    started = time.perf_counter() - start
    entry, = (entry for key, entry in app.callback_map.items() if "fig-share-over-time" in key)
    update_figures = entry["callback"].__wrapped__  # the callback's own function, without Dash's request context
    keywords = next(component.options for component in app.layout._traverse()
                    if getattr(component, "id", None) == "filter-keywords")[:40]  # the dropdown's first choices
    years = _year_range(url)
    latencies = []
    for change in _filter_changes(*years, keywords, random.Random(1)):
        begin = time.perf_counter()
        outputs = update_figures(*change)
        plotly.io.json.to_json_plotly(outputs)  # what Dash does with the outputs before sending them
        latencies.append(time.perf_counter() - begin)
    latencies.sort()
    return {"app_start_seconds": started, "p50": _percentile(latencies, 50), "p95": _percentile(latencies, 95),
            "max": latencies[-1], "peak_rss_mb": _peak_rss_mb()}


def _year_range(url: str) -> tuple[int, int]:
    from sqlalchemy import create_engine, func, select

    from postercensus.catalog import schema

    with create_engine(url).connect() as connection:
        low, high = connection.execute(select(func.min(schema.items.c.year), func.max(schema.items.c.year))).one()
    return int(low), int(high)


def _catalogue_size(url: str) -> int:
    """How many items an existing catalogue holds (its faces and mentions are 2× and ½× that)."""
    from sqlalchemy import create_engine, func, select

    from postercensus.catalog import schema

    with create_engine(url).connect() as connection:
        return int(connection.execute(select(func.count()).select_from(schema.items)).scalar_one())


def _percentile(values: list[float], percent: float) -> float:
    """Nearest-rank percentile of sorted `values` (p95 of 20 changes is the 19th slowest)."""
    return values[max(0, math.ceil(percent / 100 * len(values)) - 1)]


def _child(what: str, home: Path, url: str) -> dict:
    """Run one measurement in a fresh interpreter; its result is the last line it prints."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[1]),
                                                                      os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, __file__, "--measure", what, "--home", str(home), "--url", url],
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{what} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the run -----------------------------------------------------------------------------------

def _database(stack: ExitStack, home: Path) -> tuple[str, str]:
    """(URL, backend name): a fresh PostgreSQL database when the tests' server is set, else SQLite."""
    server = os.environ.get("POSTERCENSUS_TEST_POSTGRES")
    if server:
        from tests.support.postgres import fresh_database
        return stack.enter_context(fresh_database(server)), "PostgreSQL"
    from postercensus.catalog.database import default_url
    return default_url(home), "SQLite"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000, help="items (faces: 2×, mentions: ½×)")
    home = parser.add_mutually_exclusive_group()
    home.add_argument("--keep", type=Path, help="build the home here and keep it (default: a temporary folder)")
    home.add_argument("--existing", type=Path, help="measure again the SQLite home an earlier --keep built "
                                                    "(no synthesis; its size replaces --items)")
    parser.add_argument("--measure", choices=("analyze", "callback"), help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure = measure_analyze if args.measure == "analyze" else measure_callback
        print(json.dumps(measure(args.home, args.url)))
        return
    with ExitStack() as stack:
        load_before = os.getloadavg()
        if args.existing:
            from postercensus.analysis.cache import FINGERPRINT_FILE
            from postercensus.catalog.database import default_url
            from postercensus.catalog.home import Home

            home, backend = args.existing, "SQLite"
            url = default_url(home)
            args.items = _catalogue_size(url)
            (Home(home, url).layout.tables / FINGERPRINT_FILE).unlink(missing_ok=True)  # analyze recomputes all
            progress(f"measuring analyze on the kept catalogue in {home} ({args.items:,} items)")
        else:
            home = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pc-scale-")))
            home.mkdir(parents=True, exist_ok=True)
            url, backend = _database(stack, home)
            progress(f"synthesising {args.items:,} items, {2 * args.items:,} faces, {args.items // 2:,} mentions "
                     f"({backend})")
            start = time.perf_counter()
            synthesise(url, args.items)
            progress(f"  {time.perf_counter() - start:.1f} s; measuring analyze")
        analyzed = _child("analyze", home, url)
        progress(f"  {analyzed['seconds']:.1f} s; measuring the filter callback")
        callback = _child("callback", home, url)
        load_after = os.getloadavg()
    ok = {True: "yes", False: "NO"}
    print_table(["measure", "value", "target", "met"], [
        ["analyze wall time", f"{analyzed['seconds']:.1f} s", f"≤ {ANALYZE_SECONDS:.0f} s",
         ok[analyzed["seconds"] <= ANALYZE_SECONDS]],
        ["analyze peak RSS", f"{analyzed['peak_rss_mb']:.0f} MB", f"≤ {PEAK_RSS_MB:.0f} MB",
         ok[analyzed["peak_rss_mb"] <= PEAK_RSS_MB]],
        ["callback p50", f"{callback['p50']:.2f} s", "", ""],
        ["callback p95", f"{callback['p95']:.2f} s", f"≤ {CALLBACK_P95_SECONDS:.0f} s",
         ok[callback["p95"] <= CALLBACK_P95_SECONDS]],
        ["callback max", f"{callback['max']:.2f} s", "", ""],
        ["app start (tables loaded)", f"{callback['app_start_seconds']:.1f} s", "", ""],
        ["app peak RSS", f"{callback['peak_rss_mb']:.0f} MB", "", ""],
    ], title=(f"analysis at scale: {args.items:,} items, {2 * args.items:,} faces, {args.items // 2:,} mentions, "
              f"{backend}; {os.cpu_count()} cores, load average {load_before[0]:.2f} before, "
              f"{load_after[0]:.2f} after"))


if __name__ == "__main__":
    main()
