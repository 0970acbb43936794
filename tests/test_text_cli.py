"""`postercensus text extract|phrases` through the real CLI, on generated CSVs and the real WPA export."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.support import facedb
from tests.support.cli import run_cli, status
from postercensus.text.pipeline import TextPipeline
from postercensus.text.settings import TextSettings

WPA_CSV = "wpa-posters/posters-wpa-posters-2024-02-11.csv"
HEADER = ["id", "gender", "trigger", "role", "role_lemma", "category", "start", "end", "sentence"]


@pytest.fixture(scope="module")
def pipeline() -> TextPipeline:
    return TextPipeline(TextSettings())


def _write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _read_csv(path: Path) -> tuple[list[str], list[dict]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _assert_offsets(rows: list[dict], texts: dict[str, str], pipeline: TextPipeline) -> None:
    """Offsets index the cleaned text (boilerplate removed), not the raw description."""
    cleaned = {key: result.cleaned for key, result in zip(texts, pipeline.process(texts.values()))}
    for row in rows:
        text = cleaned[row["id"]]
        assert text[int(row["start"]):int(row["end"])] == row["trigger"]
        assert row["sentence"] in text


TINY = {
    "p1": "1 print : silkscreen, color. | Poster showing a woman welder and her husband.",
    "p2": "",
    "p3": 'Poster for "The Women" with a mother and child.',
}


@pytest.fixture
def tiny_csv(tmp_path: Path) -> Path:
    return _write_csv(tmp_path / "tiny.csv", [{"key": key, "text": text} for key, text in TINY.items()])


def test_phrases_on_a_tiny_csv(tiny_csv, home, tmp_path, pipeline):
    out = tmp_path / "out" / "phrases.csv"
    result = run_cli(home, "text", "phrases", "--csv", str(tiny_csv), "--column", "text", "--id-column", "key",
                     "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"written: {out}" in result.stdout and "in 3 row(s)" in result.stdout
    assert result.stdout.startswith("mentions: "), "no blank line (a progress bar's residue) before the summary"
    header, rows = _read_csv(out)
    assert header == HEADER
    assert [(r["id"], r["gender"], r["trigger"], r["role"]) for r in rows] == [
        ("p1", "female", "woman", "welder"), ("p1", "male", "husband", ""), ("p3", "female", "mother", "")]
    _assert_offsets(rows, TINY, pipeline)
    assert not (home / "catalog.sqlite").exists()  # no catalogue needed


def test_phrases_draws_a_progress_bar_counting_the_rows_on_a_terminal(tiny_csv, home, tmp_path, monkeypatch):
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("TTY_INTERACTIVE", "1")
    result = run_cli(home, "text", "phrases", "--csv", str(tiny_csv), "--column", "text", "--out", str(tmp_path / "p.csv"))
    assert result.exit_code == 0, result.output
    assert "rows" in result.stdout and "3/3" in result.stdout, "a bar with the CSV's row count as its total"


def test_phrases_ids_default_to_row_numbers_and_titles_are_optional(tiny_csv, home, tmp_path):
    out = tmp_path / "phrases.csv"
    assert run_cli(home, "text", "phrases", "--csv", str(tiny_csv), "--column", "text", "--out", str(out)).exit_code == 0
    assert {row["id"] for row in _read_csv(out)[1]} == {"1", "3"}
    assert run_cli(home, "text", "phrases", "--csv", str(tiny_csv), "--column", "text", "--out", str(out),
                   "--include-titles").exit_code == 0
    header, rows = _read_csv(out)
    assert header == HEADER + ["in_title"]
    assert [(r["trigger"], r["in_title"]) for r in rows if r["id"] == "3"] == [("Women", "True"), ("mother", "False")]


def test_phrases_refuses_unknown_columns_and_missing_models(tiny_csv, home, tmp_path):
    out = tmp_path / "phrases.csv"
    result = run_cli(home, "text", "phrases", "--csv", str(tiny_csv), "--column", "nope", "--out", str(out))
    assert result.exit_code == 1 and "no column 'nope'" in result.output and not out.exists()
    home.mkdir()
    (home / "postercensus.toml").write_text('[text]\nmodel = "no_such_model"\n')
    result = run_cli(home, "text", "phrases", "--csv", str(tiny_csv), "--column", "text", "--out", str(out))
    assert result.exit_code == 1 and "not installed" in result.output


def test_lexicon_in_the_home_config_extends_phrases(tmp_path, home):
    source = _write_csv(tmp_path / "p.csv", [{"id": "1", "description": "A lass drives the tractor."}])
    out = tmp_path / "phrases.csv"
    run_cli(home, "text", "phrases", "--csv", str(source), "--column", "description", "--out", str(out))
    assert _read_csv(out)[1] == []
    home.mkdir()
    (home / "postercensus.toml").write_text('[text]\nlexicon = { lass = "female" }\n')
    run_cli(home, "text", "phrases", "--csv", str(source), "--column", "description", "--out", str(out))
    assert [(r["trigger"], r["gender"]) for r in _read_csv(out)[1]] == [("lass", "female")]


def test_phrases_on_the_wpa_export(shared_data, home, tmp_path, pipeline):
    out = tmp_path / "wpa-phrases.csv"
    result = run_cli(home, "text", "phrases", "--csv", str(shared_data / WPA_CSV), "--column", "description",
                     "--id-column", "id", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "in 947 row(s)" in result.stdout
    header, rows = _read_csv(out)
    assert header == HEADER
    assert len(rows) > 50 and {r["gender"] for r in rows} == {"female", "male"}
    with (shared_data / WPA_CSV).open(newline="", encoding="utf-8") as handle:
        texts = {row["id"]: row["description"] for row in csv.DictReader(handle)}
    _assert_offsets(rows, {key: texts[key] for key in {r["id"] for r in rows}}, pipeline)


def _mention_rows(home: Path) -> list[tuple]:
    return facedb.rows(home, "SELECT items.source_item_id, trigger, version_hash FROM mentions "
                      "JOIN items ON items.id = mentions.item_id ORDER BY mentions.id")


def test_extract_is_incremental_and_follows_the_config(tmp_path, home):
    source = tmp_path / "p.csv"
    _write_csv(source, [{"id": "1", "description": "A woman welder.", "subjects": "Theatre posters--Color"},
                        {"id": "2", "description": "", "subjects": ""}])
    assert run_cli(home, "harvest", "csv", str(source)).exit_code == 0

    first = run_cli(home, "text", "extract")
    assert first.exit_code == 0, first.output
    assert "2 item(s) to scan" in first.stdout and "1 in 2 item(s) scanned (female 1 outside titles)" in first.stdout
    assert "tables mentions and text_scans" in first.stdout
    assert "0 item(s) to scan" in run_cli(home, "text", "extract").stdout

    _write_csv(source, [{"id": "1", "description": "A policeman.", "subjects": "Theatre posters--Color"},
                        {"id": "2", "description": "", "subjects": ""}])
    run_cli(home, "harvest", "csv", str(source))
    assert "1 item(s) to scan" in run_cli(home, "text", "extract").stdout
    assert [row[:2] for row in _mention_rows(home)] == [("1", "policeman")]

    config = (home / "postercensus.toml").read_text()
    (home / "postercensus.toml").write_text(config + '\n[text]\nlexicon = { lass = "female" }\n'
                                            '\n[keywords]\nsynonyms = { "theatre posters" = "theatrical posters" }\n')
    changed = run_cli(home, "text", "extract")
    assert "2 item(s) to scan" in changed.stdout and "1 item(s) changed" in changed.stdout
    assert len({row[2] for row in _mention_rows(home)}) == 2  # the old version's mentions stay
    [item] = facedb.rows(home, "SELECT keywords FROM items WHERE source_item_id = '1'")
    assert json.loads(item[0]) == ["theatrical posters", "color"]
    assert [v["items_scanned"] for v in status(home)["text_versions"]] == [2, 2]
