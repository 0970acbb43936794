"""Every command error is one `Error:` line on stderr, never a traceback (issue 21, reproductions
4 and 5): each command that writes an output, pointed at a path that is occupied (a file where a
folder goes, a folder where a file goes) or cannot be made (under a regular file: the tests run as
root, so permissions alone would not stop them). And export/dashboard on a home where no face stage
ran say so instead of only "0 faces matched"."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from postercensus.cli import app
from tests.support.cli import run_cli
from tests.support.images import make_jpeg

# (command line with {home}, {file} = an existing regular file, {scans} = a folder of one image,
#  {labelled} = FOLDER/<label>/*.jpg, {csv} = a CSV with a description column)
WRITING_COMMANDS = [
    ("--home", "{home}", "export", "{file}"),
    ("--home", "{home}", "export", "{file}/out"),
    ("--home", "{home}", "dashboard", "build", "{scans}"),
    ("--home", "{home}", "dashboard", "build", "{file}/page.html"),
    ("classify", "evaluate", "default", "{labelled}", "--json", "{file}/report.json"),
    ("classify", "evaluate", "default", "{labelled}", "--json", "{scans}"),
    ("classify", "evaluate", "default", "{labelled}", "--json", "{scans}/r.json", "--html", "{file}/r.html"),
    ("classify", "train", "{labelled}", "--out", "{file}"),
    ("classify", "train", "{labelled}", "--out", "{file}/model"),
    ("faces", "scan", "{scans}", "--out", "{file}/faces.csv"),
    ("faces", "scan", "{scans}", "--out", "{scans}"),
    ("text", "phrases", "--csv", "{csv}", "--column", "description", "--out", "{file}/mentions.csv"),
    ("text", "phrases", "--csv", "{csv}", "--column", "description", "--out", "{scans}"),
    ("init", "{file}"),
    ("init", "{file}/home"),
    ("demo", "--home", "{file}"),
    ("demo", "--home", "{file}/demo"),
    ("--home", "{file}", "harvest", "folder", "{scans}"),
    ("--home", "{file}/home", "harvest", "folder", "{scans}"),
]


@pytest.fixture(scope="module")
def paths(tmp_path_factory) -> dict[str, Path]:
    """A harvested home (one image, no face stage run), a regular file, and the inputs the commands read."""
    root = tmp_path_factory.mktemp("errors")
    scans, labelled, table, file = root / "scans", root / "labelled", root / "texts.csv", root / "occupied"
    scans.mkdir()
    (scans / "a.jpg").write_bytes(make_jpeg())
    for label in ("female", "male"):
        (labelled / label).mkdir(parents=True)
        (labelled / label / f"{label}1_1.jpg").write_bytes(make_jpeg())
    table.write_text("id,description\n1,A woman welder at work.\n", encoding="utf-8")
    file.write_text("a regular file, not a folder\n")
    home = root / "home"
    assert run_cli(home, "harvest", "folder", str(scans)).exit_code == 0
    return {"home": home, "file": file, "scans": scans, "labelled": labelled, "csv": table}


@pytest.mark.parametrize("command", WRITING_COMMANDS, ids=" ".join)
def test_an_occupied_or_impossible_output_path_is_one_error_line(paths, command):
    args = [part.format(**paths) for part in command]
    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # not an uncaught exception
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert paths["file"].read_text() == "a regular file, not a folder\n"  # nothing written over it


def test_an_unforeseen_file_error_is_one_error_line_too(paths):
    """The CLI's safety net: a file error no command checks for (here, the home's analysis folder
    taken by a file) is still one `Error:` line naming the path."""
    home = paths["home"]
    (home / "analysis").write_text("in the way")
    try:
        result = run_cli(home, "analyze")
    finally:
        (home / "analysis").unlink()
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith("Error: ") and str(home / "analysis") in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", [("export", "{out}"), ("dashboard", "build", "{out}/page.html")], ids=" ".join)
def test_export_and_dashboard_say_when_no_face_stage_has_run(paths, tmp_path, command):
    result = run_cli(paths["home"], *(part.format(out=tmp_path / "out") for part in command))
    assert result.exit_code == 0, result.output
    assert "0 faces matched" in result.stdout
    assert "no faces detected yet" in result.stdout and "postercensus refresh" in result.stdout
