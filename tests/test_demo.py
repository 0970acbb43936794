"""`postercensus demo`: the README's first command, offline, on nothing but the installed packages.

No ../shared/data here on purpose: the demo must work on a fresh machine. The generated
collection is checked against what was drawn (descriptions name the figures drawn; faces are
found where figures were drawn), and the demo runs with every non-loopback connection refused,
as on a machine with no internet.
"""
from __future__ import annotations

import json
import socket
import tomllib
from pathlib import Path

import pytest
import tomli_w
from typer.testing import CliRunner, Result

from postercensus.catalog.database import default_url
from postercensus.classify.models import classifier
from postercensus.cli import app
from postercensus.catalog.config import DEMO_BANNER
from postercensus.catalog.layout import CONFIG_FILENAME
from postercensus.demo.collection import FEMALE, MALE, demo_posters, write_demo_collection
from tests.support.cli import run_cli
from tests.support.facedb import query, rows

INLINE = ("--workers", "1")
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _refuse_internet(patch: pytest.MonkeyPatch) -> None:
    """Every connection to anything but this machine fails, as without internet."""
    connect = socket.socket.connect

    def loopback_only(sock: socket.socket, address) -> None:
        if sock.family != socket.AF_UNIX and address[0] not in LOOPBACK:
            raise OSError(f"offline test: connection to {address} refused")
        return connect(sock, address)

    patch.setattr(socket.socket, "connect", loopback_only)


def _demo(home: Path) -> Result:
    """`postercensus demo --home HOME`, the demo's own --home after the command as docs/commands-demo.md types it."""
    return CliRunner().invoke(app, ["demo", "--home", str(home), *INLINE])


def _home_with_a_source(root: Path) -> Path:
    """A researcher's home whose catalogue holds a real source (an empty folder of scans)."""
    home, folder = root / "research", root / "scans"
    folder.mkdir(parents=True)
    assert run_cli(home, "harvest", "folder", str(folder)).exit_code == 0
    return home


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, Result]:
    """(home, result) of one offline demo, run while $POSTERCENSUS_DB names a researcher's catalogue."""
    root = tmp_path_factory.mktemp("demo")
    research = _home_with_a_source(root)
    with pytest.MonkeyPatch.context() as patch:
        _refuse_internet(patch)
        patch.setenv("POSTERCENSUS_DB", default_url(research))
        result = _demo(root / "home")
    assert rows(research, "SELECT count(*) FROM items") == [(0,)], "the demo never writes to $POSTERCENSUS_DB"
    return root / "home", result


def test_demo_runs_the_full_refresh_offline_and_says_where_the_results_are(demo):
    home, result = demo

    assert result.exit_code == 0, (result.output, result.exception)
    assert rows(home, "SELECT count(*) FROM items") == [(len(demo_posters()),)]
    assert rows(home, "SELECT count(*) FROM items WHERE title NOT LIKE '[DEMO]%'") == [(0,)], "labelled as a demo"
    assert (home / "dashboard.html").is_file() and (home / "export" / "by_gender.csv").is_file()
    assert f"dashboard: {home / 'dashboard.html'}" in result.stdout
    assert f"export: {home / 'export'}" in result.stdout
    assert "DEMO DATA" in result.stdout
    for stage in ("faces", "classify", "text", "analyze"):
        assert rows(home, "SELECT status FROM runs WHERE stage = ? ORDER BY id DESC LIMIT 1", stage) == [("ok",)]


def test_the_demo_home_is_marked_and_its_page_export_and_tables_say_demo(demo):
    home, _ = demo
    assert tomllib.loads((home / CONFIG_FILENAME).read_text(encoding="utf-8"))["demo"] is True

    assert f'<div class="demo-banner" role="note">{DEMO_BANNER}</div>' in (home / "dashboard.html").read_text("utf-8")
    for folder in (home / "export", home / "analysis"):
        provenance = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
        assert provenance["banner"] == DEMO_BANNER and provenance["demo"] is True
        assert (folder / "codebook.md").read_text(encoding="utf-8").startswith(f"**{DEMO_BANNER}**")


def test_demo_finds_faces_where_figures_were_drawn_and_mentions_of_the_people_described(demo):
    home, _ = demo
    posters = {poster.item_id: poster for poster in demo_posters()}
    drawn = sum(len(poster.genders) for poster in posters.values())

    found = rows(home, """SELECT it.source_item_id, f."left", f."right" FROM faces f
                          JOIN images im ON im.sha256 = f.image_sha256 JOIN items it ON it.id = im.item_id""")
    mentioned = rows(home, """SELECT it.source_item_id, m.gender FROM mentions m JOIN items it ON it.id = m.item_id
                              WHERE m.in_title = ?""", False)

    assert len(found) >= 0.8 * drawn, f"{len(found)} faces for {drawn} drawn figures"
    assert all(posters[item].figure_at((left + right) / 2) is not None for item, left, right in found), \
        "every face lies on a drawn figure"
    assert rows(home, "SELECT count(*) FROM predictions") == [(len(found),)]
    for item, poster in posters.items():
        assert {gender for mentioned_item, gender in mentioned if mentioned_item == item} == set(poster.genders), item


def test_demo_prints_the_drawn_figures_beside_the_labels_they_got(demo):
    _, result = demo
    women = sum(poster.genders.count(FEMALE) for poster in demo_posters())
    men = sum(poster.genders.count(MALE) for poster in demo_posters())

    assert f"female ({women})" in result.stdout and f"male ({men})" in result.stdout
    assert "not found" in result.stdout


def test_a_second_demo_finds_nothing_new_without_loading_the_model(demo, monkeypatch):
    home, _ = demo
    faces_before = rows(home, "SELECT count(*) FROM faces")

    def no_model(*args, **kwargs):
        raise AssertionError("the classifier was loaded with nothing to classify")

    monkeypatch.setattr(classifier, "load_classifier", no_model)
    again = _demo(home)

    assert again.exit_code == 0, again.output
    assert "new 0, updated 0" in again.stdout
    assert rows(home, "SELECT count(*) FROM faces") == faces_before
    assert "(model not loaded)" in again.stdout
    last = query(home, "SELECT status, counts FROM runs WHERE stage = 'classify' ORDER BY id DESC LIMIT 1")[0]
    assert last["status"] == "ok" and json.loads(last["counts"])["predicted"] == 0, "the run is still recorded"


def test_the_demo_keeps_out_of_a_home_with_other_sources(tmp_path):
    home = _home_with_a_source(tmp_path)

    result = _demo(home)

    assert result.exit_code == 1
    assert "already holds other sources" in result.output and "--home" in result.output
    assert not (home / "demo-collection").exists()


def test_the_demo_keeps_out_of_a_catalogue_with_other_sources(tmp_path):
    research = _home_with_a_source(tmp_path)

    result = CliRunner().invoke(app, ["--db", default_url(research), "demo", "--home", str(tmp_path / "new")])

    assert result.exit_code == 1
    assert "already holds other sources" in result.output
    assert rows(research, "SELECT count(*) FROM items") == [(0,)]


def test_the_generated_collection_is_the_same_every_time(tmp_path):
    first = write_demo_collection(tmp_path / "one")
    second = write_demo_collection(tmp_path / "two")

    files = sorted(path.relative_to(first.parent) for path in first.parent.rglob("*") if path.is_file())
    assert len(files) == len(demo_posters()) + 1
    for name in files:
        assert (first.parent / name).read_bytes() == (second.parent / name).read_bytes(), name


def _set_threshold(home: Path, threshold: float) -> None:
    config = home / CONFIG_FILENAME
    settings = tomllib.loads(config.read_text(encoding="utf-8"))
    settings["classify"] = {"threshold": threshold}
    config.write_text(tomli_w.dumps(settings), encoding="utf-8")


def test_a_new_threshold_in_the_config_relabels_at_the_next_refresh(demo):
    home, _ = demo
    unsure = rows(home, "SELECT count(*) FROM predictions WHERE probability < 0.9")[0][0]
    assert unsure > 0, "some demo faces must fall below the threshold for this test to mean anything"
    try:
        _set_threshold(home, 0.9)
        result = run_cli(home, "refresh", *INLINE)

        assert result.exit_code == 0, result.output
        assert f"predicted 0, relabelled {unsure}" in result.stdout
        assert rows(home, "SELECT count(*) FROM predictions WHERE label = 'uncertain'") == [(unsure,)]
    finally:
        _set_threshold(home, 0.0)
        assert run_cli(home, "refresh", *INLINE).exit_code == 0
    assert rows(home, "SELECT count(*) FROM predictions WHERE label = 'uncertain'") == [(0,)]
