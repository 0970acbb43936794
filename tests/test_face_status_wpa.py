"""Issue 13 item 1 on real data: the WPA export (947 posters, 7 images on disk) harvested and refreshed.

Before, composition.csv said `no_face,947,1.0` and agreement called 221 posters without any image
`text_only`. Now only the 7 posters whose image was scanned are in the composition's shares, the
940 without an image are counted apart, items.csv says which is which, and the dashboard states
the base. The faces stage runs on the 7 stored images only; files are read with the csv module.
"""
from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from postercensus.dashboards.panels import FACE_PANELS
from tests.support.cli import run_cli

WPA = Path("wpa-posters")
SCANNED_ROWS = ("no_face", "only_female", "only_male", "mixed", "only_uncertain")


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def wpa_home(shared_data, tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("wpa-face-status") / "home"
    harvested = run_cli(home, "harvest", "csv", str(shared_data / WPA / "posters-wpa-posters-2024-02-11.csv"),
                        "--images", str(shared_data / WPA / "images"))
    assert harvested.exit_code == 0, harvested.output
    refreshed = run_cli(home, "refresh", "--workers", "1")
    assert refreshed.exit_code in (0, 2), refreshed.output  # 2: the 940 missing files, reported by the harvest
    return home


def test_composition_counts_only_the_scanned_posters_and_the_rest_apart(wpa_home):
    rows = {row["composition"]: row for row in _csv(wpa_home / "analysis" / "composition.csv")}
    scanned = {kind: int(row["items"]) for kind, row in rows.items() if kind in SCANNED_ROWS}
    assert sum(scanned.values()) == 7  # never no_face,947
    assert sum(float(rows[kind]["share"]) for kind in scanned) == pytest.approx(1.0)
    assert {kind: (rows[kind]["items"], rows[kind]["share"]) for kind in ("not_scanned", "failed", "no_image")} == \
        {"not_scanned": ("0", ""), "failed": ("0", ""), "no_image": ("940", "")}


def test_items_csv_gives_each_poster_its_face_status(wpa_home, shared_data):
    items = _csv(wpa_home / "export" / "items.csv")
    assert Counter(item["face_status"] for item in items) == {"scanned": 7, "no_image": 940}
    on_disk = {path.stem for path in (shared_data / WPA / "images").glob("*.jpg")}
    assert {item["source_item_id"] for item in items if item["face_status"] == "scanned"} == on_disk
    assert "face_status" in (wpa_home / "export" / "codebook.md").read_text(encoding="utf-8")


def test_agreement_calls_posters_without_an_image_no_image_not_text_only(wpa_home):
    status = {item["item_id"]: item["face_status"] for item in _csv(wpa_home / "export" / "items.csv")}
    rows = _csv(wpa_home / "export" / "agreement.csv")
    assert {row["agreement"] for row in rows if status[row["item_id"]] == "no_image"} == {"no_image"}
    assert all(row["faces_female"] == row["faces_male"] == "" for row in rows if row["agreement"] == "no_image")
    text_only = [row for row in rows if row["agreement"] == "text_only"]
    assert len(text_only) <= 7 and all(status[row["item_id"]] == "scanned" for row in text_only)
    summary = {row["agreement"]: row for row in _csv(wpa_home / "export" / "agreement_summary.csv")}
    no_image = sum(row["agreement"] == "no_image" for row in rows)
    assert no_image > 200 and (summary["no_image"]["items"], summary["no_image"]["share"]) == (str(no_image), "")


def test_the_dashboard_states_the_base_of_its_face_figures(wpa_home):
    page = (wpa_home / "dashboard.html").read_text(encoding="utf-8")
    assert page.count("of 7 posters with a scanned image (947 posters in this view; 940 no image)") == len(FACE_PANELS)
    assert "Text and faces compared on" in page
