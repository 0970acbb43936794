"""100 malformed and hostile inputs, mixed with good items, through the real command line.

The inputs (tests/support/malformedsite.py) arrive as a user meets them: an OAI-PMH listing with
impossible dates, identifiers holding control characters and images that lie (1 GB announced,
HTML served as image/jpeg, a 30000×30000 PNG bomb, cut-off bodies); hostile OAI-PMH pages (XXE,
billion laughs, truncated, not XML); a IIIF collection of broken manifests and manifests naming
local files; a CSV export with broken scans, path traversal and a row that is not UTF-8. Then
faces, classification and text run over the catalogue, and every harvest is run again.

Nothing may crash; each bad input is reported exactly once (its marker in exactly one stored
error message of the run that met it); every good item is stored once and processed; nothing is
written outside the home; the XXE secret never arrives; the bomb is refused by the pixel cap.
"""
from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.support.cli import run_cli, use_catalog
from tests.support.facedb import rows
from postercensus.harvest.dates import MAX_DATE_CHARS
from tests.support.malformedsite import BAD_DATES, Bad, MalformedArchive

EXPECTED_BAD_INPUTS = 100
HARVEST_OPTIONS = ("--retries", "0", "--timeout", "10", "--workers", "2")
MAX_SECONDS = 150  # the whole scenario; it takes under a minute
MAX_HARVEST_GROWTH_MB = 500  # decoding the 30000×30000 bomb would take 900 MB (2.7 GB as RGB)


class PeakMemory:
    """The largest resident size (MB) this process reaches inside the block, sampled every 20 ms:
    a growth over the size at the start is this block's, whatever earlier tests left behind."""

    def __enter__(self) -> "PeakMemory":
        self.start = self.peak = _resident_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _resident_mb())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth(self) -> float:
        return self.peak - self.start


def _resident_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


def _invoke(home: Path, *args: str):
    result = run_cli(home, *args)
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def _files(root: Path, skip: Path) -> dict[str, tuple[int, int]]:
    """Every file under `root` except under `skip`: path → (size, mtime)."""
    return {str(path): (path.lstat().st_size, path.lstat().st_mtime_ns)
            for path in root.rglob("*") if not path.is_relative_to(skip) and not path.is_dir()}


def _runs(home: Path) -> list[dict]:
    return [{"id": run_id, "stage": stage, "status": status, "errors": json.loads(errors or "null")}
            for run_id, stage, status, errors in rows(home, "SELECT id, stage, status, errors FROM runs ORDER BY id")]


def _items(home: Path) -> list[tuple]:
    return rows(home, "SELECT sources.kind, items.source_item_id, items.content_hash, items.year FROM items "
                      "JOIN sources ON sources.id = items.source_id ORDER BY items.id")


@pytest.fixture(scope="module")
def census(tmp_path_factory, shared_data, catalog_urls):
    """Harvest everything, run the stages, harvest again; keep what a test needs to look at."""
    root = tmp_path_factory.mktemp("malformed")
    home = root / "home"
    use_catalog(home, catalog_urls(home))
    started = time.monotonic()
    with MalformedArchive(root / "archive", shared_data) as archive:
        before = _files(root, home)
        harvests = {
            "oai": ("harvest", "oai", archive.oai_url, *HARVEST_OPTIONS),
            "iiif": ("harvest", "iiif", archive.iiif_url, *HARVEST_OPTIONS),
            "csv": ("harvest", "csv", str(archive.csv), "--images", str(archive.images), "--workers", "2"),
        }
        with PeakMemory() as harvest_memory:
            first = {source: _invoke(home, *args) for source, args in harvests.items()}
            pages = {marker: _invoke(home, "harvest", "oai", url, *HARVEST_OPTIONS)
                     for marker, url in archive.pages.items()}
        items_after_first = _items(home)
        stages = {
            "faces": _invoke(home, "faces", "detect", "--workers", "1"),
            "classify": _invoke(home, "classify", "predict"),
            "text": _invoke(home, "text", "extract"),
        }
        again = {source: _invoke(home, *args) for source, args in harvests.items()}
        after = _files(root, home)
    return {
        "archive": archive, "home": home, "root": root, "first": first, "pages": pages, "stages": stages,
        "again": again, "items_after_first": items_after_first, "before": before, "after": after,
        "seconds": time.monotonic() - started, "runs": _runs(home), "harvest_memory": harvest_memory,
    }


def _run_of(census, stage: str, nth: int = 0) -> dict:
    return [run for run in census["runs"] if run["stage"] == stage][nth]


def _reported(messages: list[str], bad: Bad) -> int:
    return sum(bad.marker in message for message in messages)


def test_exactly_100_malformed_inputs_are_fed_in(census):
    bad = census["archive"].inventory.bad
    figures = Counter(f"{b.source}: {b.kind.split(':')[0]}" for b in bad)
    print(f"\n{len(bad)} malformed inputs: " + ", ".join(f"{kind} {n}" for kind, n in sorted(figures.items())))
    assert len(bad) == EXPECTED_BAD_INPUTS
    assert len({b.marker for b in bad}) == len(bad), "every input has its own marker"


def test_no_command_crashes_and_each_exits_with_its_documented_code(census):
    for source, result in {**census["first"], **census["again"], **census["stages"]}.items():
        assert result.exit_code == 0, (source, result.output)
    # Only a listing that stopped after records were read is worth running again; a source whose
    # first page fails is not registered, and its error gives the fix, not "run the same command again".
    mid_listing = {bad.marker for bad in census["archive"].inventory.of("page") if bad.kind == "second page truncated"}
    for marker, result in census["pages"].items():
        assert result.exit_code == 1, (marker, result.output)
        errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
        assert len(errors) == 1 and marker in errors[0], (marker, result.output)
        stopped_mid_listing = "what was read is stored; run the same command again" in errors[0]
        assert stopped_mid_listing == (marker in mid_listing), (marker, result.output)
        assert ("nothing was stored or registered" in errors[0]) == (marker not in mid_listing), (marker, result.output)


def _first_messages(census) -> dict[str, list[str]]:
    """The stored error messages of the run that first met each input: per source, and per hostile page."""
    messages = {source: _run_of(census, f"harvest.{source}")["errors"]["messages"] for source in ("oai", "iiif", "csv")}
    messages["text"] = _run_of(census, "text")["errors"]["messages"]
    page_runs = [run for run in census["runs"] if run["stage"] == "harvest.oai"][1:len(census["pages"]) + 1]
    messages.update((marker, run["errors"]["messages"]) for marker, run in zip(census["pages"], page_runs))
    return messages


def _met_by(bad: Bad) -> str:
    return bad.marker if bad.source == "page" else bad.source


def test_each_bad_input_is_reported_exactly_once_by_the_run_that_met_it(census):
    inventory, messages = census["archive"].inventory, _first_messages(census)

    times = {bad.marker: (bad.kind, _reported(messages[_met_by(bad)], bad)) for bad in inventory.bad}
    assert {marker: seen for marker, seen in times.items() if seen[1] != 1} == {}, "(kind, times reported)"
    for source in ("oai", "iiif", "csv", "text"):
        unexplained = [m for m in messages[source] if not any(b.marker in m for b in inventory.of(source))]
        assert unexplained == [], f"{source}: messages about no bad input: {unexplained}"
    statuses = {run["stage"]: run["status"] for run in census["runs"][::-1]}  # each stage's first run
    assert statuses == {"harvest.oai": "partial", "harvest.iiif": "partial", "harvest.csv": "partial",
                        "faces": "ok", "classify": "ok", "text": "partial"}
    page_runs = [run for run in census["runs"] if run["stage"] == "harvest.oai"][1:len(census["pages"]) + 1]
    assert {run["status"] for run in page_runs} == {"failed"}


def test_messages_say_what_happened_and_what_to_do(census):
    oai = "\n".join(_run_of(census, "harvest.oai")["errors"]["messages"])
    assert "declared size 1,073,741,824 bytes exceeds the cap" in oai and "--max-mb" in oai
    assert "decompression bomb" in oai
    csv = "\n".join(_run_of(census, "harvest.csv")["errors"]["messages"])
    assert "save the CSV as UTF-8" in csv and "points outside" in csv
    assert "stored with a warning" in census["first"]["iiif"].output
    kinds = {bad.marker: bad.kind for bad in census["archive"].inventory.of("page")}
    for marker, result in census["pages"].items():
        hostile = any(word in kinds[marker] for word in ("XXE", "DTD", "laughs", "blowup"))
        advice = ("refused unread",) if hostile else ("try again later", "check that the URL", "report")
        assert any(words in result.output for words in advice), (kinds[marker], result.output)


def test_every_good_item_is_stored_once_and_processed_by_every_stage(census):
    home, inventory = census["home"], census["archive"].inventory
    stored = Counter((kind, item_id) for kind, item_id, _, _ in census["items_after_first"])
    assert [good for good in inventory.good if stored[(good.source, good.item_id)] != 1] == []
    for good in inventory.good:
        [(item,)] = rows(home, "SELECT items.id FROM items JOIN sources ON sources.id = items.source_id "
                               "WHERE sources.kind = ? AND items.source_item_id = ?", good.source, good.item_id)
        mentions = rows(home, "SELECT count(*) FROM mentions WHERE item_id = ?", item)[0][0]
        assert (mentions > 0) == good.mention, (good, mentions)
        if not good.faces:
            continue
        faces = rows(home, "SELECT count(faces.id), count(DISTINCT face_scans.id), min(face_scans.status) "
                           "FROM images JOIN face_scans ON face_scans.image_sha256 = images.sha256 "
                           "LEFT JOIN faces ON faces.image_sha256 = images.sha256 "
                           "WHERE images.item_id = ? AND images.status = 'ok'", item)
        assert faces[0][0] > 0 and faces[0][1:] == (1, "ok"), (good, faces)
    [(faces, predicted)] = rows(home, "SELECT (SELECT count(*) FROM faces), (SELECT count(DISTINCT face_id) FROM predictions)")
    assert faces == predicted > 0


def test_text_fields_are_stored_without_nul_characters(census):
    """PostgreSQL's text columns refuse NUL, so the catalogue drops it on every database."""
    texts = rows(census["home"], "SELECT source_item_id, title, description FROM items")
    assert [item for item, *fields in texts if any("\x00" in (field or "") for field in fields)] == []
    assert ("csv:nul-in-text", "Poster") in [(item, title) for item, title, _ in texts]


def test_bad_dates_are_kept_as_text_without_a_year(census):
    home = census["home"]
    dated = [bad for bad in census["archive"].inventory.bad if bad.kind == "bad date" and bad.source == "oai"]
    stored = [rows(home, "SELECT date, year FROM items WHERE source_item_id = ?", f"oai:fault:{bad.marker}")[0]
              for bad in dated]
    assert stored == [(date if len(date) <= MAX_DATE_CHARS else None, None) for date in BAD_DATES]
    assert rows(home, "SELECT date, year FROM items WHERE source_item_id = 'oai:good:0'") == [("1941-05-09", 1941)]


def test_nothing_is_written_outside_the_home_and_no_local_file_is_copied_in(census):
    assert census["after"] == census["before"], "files outside the home changed"
    home, archive = census["home"], census["archive"]
    origins = [origin for (origin,) in rows(home, "SELECT origin FROM images")]
    assert not [origin for origin in origins if not origin.startswith(("http://", str(archive.images)))]
    outside = {path.read_bytes() for path in archive.outside.iterdir()} | {(archive.csv.parent / "outside.jpg").read_bytes()}
    assert not [path for path in (home / "images").rglob("*.*") if path.is_file() and path.read_bytes() in outside]


def test_the_xxe_secret_never_arrives_and_no_entity_url_is_fetched(census):
    archive, home = census["archive"], census["home"]
    secret = archive.secret.encode()
    leaked = [path for path in home.rglob("*") if path.is_file() and secret in path.read_bytes()]
    assert leaked == []
    like = f"%{archive.secret}%"
    assert rows(home, "SELECT count(*) FROM items WHERE title LIKE ? OR description LIKE ? OR CAST(raw AS TEXT) LIKE ?",
                like, like, like) == [(0,)]
    assert rows(home, "SELECT count(*) FROM runs WHERE CAST(errors AS TEXT) LIKE ?", like) == [(0,)]
    outputs = [result.output for group in ("first", "pages", "stages", "again") for result in census[group].values()]
    assert not [output for output in outputs if archive.secret in output]
    assert not archive.requested("/ssrf/"), "an entity or DTD URL was fetched"


def test_rerunning_the_harvests_adds_nothing_and_reports_each_bad_input_once_again(census):
    assert _items(census["home"]) == census["items_after_first"], "stored rows changed on the rerun"
    for source, result in census["again"].items():
        assert ": 0 new, 0 updated, 0 deleted" in result.output, (source, result.output)
    inventory = census["archive"].inventory
    for source in ("oai", "iiif", "csv"):
        messages = _run_of(census, f"harvest.{source}", -1)["errors"]["messages"]
        assert {bad.marker: _reported(messages, bad) for bad in inventory.of(source)} == \
            {bad.marker: 1 for bad in inventory.of(source)}
    [(versions,)] = rows(census["home"], "SELECT count(*) FROM item_versions")
    assert versions == len(census["items_after_first"])


def test_the_run_is_bounded_in_time_and_memory(census):
    """The bombs are refused by the pixel cap from their headers, never decoded."""
    memory = census["harvest_memory"]
    print(f"\nwhole scenario {census['seconds']:.1f} s; harvests grew memory by {memory.growth:.0f} MB")
    assert census["seconds"] < MAX_SECONDS
    assert memory.growth < MAX_HARVEST_GROWTH_MB


def test_a_csv_whose_header_is_not_utf8_stops_with_one_line_saying_what_to_do(tmp_path):
    export = tmp_path / "export.csv"
    export.write_bytes(b"id,titre,ann\xe9e\nx1,Affiche,1941\n")

    result = _invoke(tmp_path / "home", "harvest", "csv", str(export))

    assert result.exit_code == 1
    assert [line for line in result.output.splitlines() if line.startswith("Error: ")] == [
        f"Error: the header row of {export} is not valid UTF-8; save the CSV as UTF-8 and "
        "harvest again — nothing was stored or registered"]
