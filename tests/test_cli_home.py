"""A home must exist to be read (issue 21, reproduction 2): a mistyped --home, or plain `status` in
a folder without ./postercensus-home, exits 2 with one `Error:` line naming the path and how to
create a home, and creates nothing; only `init`, `harvest …` and `demo` make one. `--home`/`--db`
work after the command too, `POSTERCENSUS_HOME` names the default, and `pc.open` refuses a path
that holds no home unless `create=True`."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import postercensus as pc
from postercensus.catalog.layout import CONFIG_FILENAME, SQLITE_FILENAME
from postercensus.cli import app
from tests.support.cli import run_cli
from tests.support.images import make_jpeg

# every command that reads a home, with the arguments it needs besides the home
READING_COMMANDS = [
    ("status",),
    ("status", "--json"),
    ("analyze",),
    ("export", "{out}"),
    ("dashboard", "build", "{out}/page.html"),
    ("dashboard", "serve", "--port", "0"),
    ("refresh", "--workers", "1"),
    ("faces", "detect", "--workers", "1"),
    ("classify", "predict"),
    ("classify", "label", "--port", "0"),
    ("classify", "train", "--from-catalog", "--out", "{out}/model"),
    ("text", "extract"),
    ("schedule", "print-cron"),
    ("schedule", "print-systemd"),
]


def _invoke(*args: str, env: dict | None = None):
    return CliRunner().invoke(app, list(args), env=env)


def _assert_no_home(result, path: Path) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Error: no postercensus home at {path}")
    assert f"postercensus init {path}" in lines[0] and "harvest" in lines[0]
    assert "Traceback" not in result.output


@pytest.fixture
def elsewhere(tmp_path, monkeypatch) -> Path:
    """A working folder with no home in it, and no $POSTERCENSUS_HOME set."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.delenv("POSTERCENSUS_HOME", raising=False)
    monkeypatch.delenv("POSTERCENSUS_DB", raising=False)
    return folder


@pytest.mark.parametrize("command", READING_COMMANDS, ids=" ".join)
def test_a_mistyped_home_is_refused_with_exit_2_and_nothing_is_created(tmp_path, elsewhere, command):
    typo = tmp_path / "pc-typo"
    out = tmp_path / "out"
    args = [part.format(out=out) for part in command]
    _assert_no_home(run_cli(typo, *args), typo)
    assert not typo.exists() and not out.exists()


@pytest.mark.parametrize("command", READING_COMMANDS, ids=" ".join)
def test_home_after_the_command_is_the_home_read(tmp_path, elsewhere, command):
    typo = tmp_path / "pc-typo"
    args = [part.format(out=tmp_path / "out") for part in command]
    _assert_no_home(_invoke(*args, "--home", str(typo)), typo)
    assert not typo.exists()


def test_plain_status_in_a_folder_without_a_home_creates_none(elsewhere):
    _assert_no_home(_invoke("status"), elsewhere / "postercensus-home")
    assert list(elsewhere.iterdir()) == []


def test_postercensus_home_names_the_default(tmp_path, elsewhere, monkeypatch):
    chosen = tmp_path / "chosen"
    monkeypatch.setenv("POSTERCENSUS_HOME", str(chosen))
    _assert_no_home(_invoke("status"), chosen)
    assert _invoke("init").exit_code == 0
    result = _invoke("status", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["home"] == str(chosen)
    assert list(elsewhere.iterdir()) == []  # ./postercensus-home was never made


def test_init_creates_a_home_that_every_reading_command_then_reads(tmp_path, elsewhere):
    home = tmp_path / "pc"
    result = _invoke("init", str(home))
    assert result.exit_code == 0, result.output
    assert (home / CONFIG_FILENAME).is_file() and (home / SQLITE_FILENAME).is_file()
    assert str(home) in result.stdout and "harvest" in result.stdout  # the next step is said
    for args in (("status", "--home", str(home), "--json"), ("--home", str(home), "status", "--json")):
        shown = _invoke(*args)
        assert shown.exit_code == 0, shown.output
        assert json.loads(shown.stdout)["items"] == 0
    again = _invoke("--home", str(home), "init")
    assert again.exit_code == 0 and "already exists" in again.stdout


def test_db_after_the_command_is_the_catalogue_read(tmp_path, elsewhere):
    """A home whose catalogue is not the SQLite file in its folder (as on PostgreSQL) is known by its
    postercensus.toml, which `init` writes; --db after the command names that catalogue."""
    home, url = tmp_path / "pc", f"sqlite:///{tmp_path / 'elsewhere.sqlite'}"
    assert _invoke("--db", url, "init", str(home)).exit_code == 0
    assert (home / CONFIG_FILENAME).is_file() and not (home / SQLITE_FILENAME).exists()
    assert (tmp_path / "elsewhere.sqlite").is_file()
    result = _invoke("status", "--home", str(home), "--db", url, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["catalog"] == url


def test_init_onto_a_file_is_one_error_line(tmp_path, elsewhere):
    occupied = tmp_path / "occupied"
    occupied.write_text("not a home")
    for target in (occupied, occupied / "pc"):
        result = _invoke("init", str(target))
        assert result.exit_code == 1, result.output
        assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("Error: ")
        assert "Traceback" not in result.output


def test_harvest_still_creates_its_home(tmp_path, elsewhere):
    scans, home = tmp_path / "scans", tmp_path / "new-home"
    scans.mkdir()
    (scans / "a.jpg").write_bytes(make_jpeg())
    result = _invoke("harvest", "folder", str(scans), "--home", str(home))
    assert result.exit_code == 0, result.output
    assert json.loads(run_cli(home, "status", "--json").stdout)["items"] == 1


def test_commands_that_need_no_home_create_none(tmp_path, elsewhere):
    """`text phrases` reads a CSV, not a catalogue: it runs without a home and makes none."""
    table = tmp_path / "texts.csv"
    table.write_text("id,description\n1,A woman welder at work.\n", encoding="utf-8")
    result = _invoke("text", "phrases", "--csv", str(table), "--column", "description", "--out", str(tmp_path / "m.csv"))
    assert result.exit_code == 0, result.output
    assert list(elsewhere.iterdir()) == []


def test_pc_open_refuses_a_path_without_a_home_unless_asked_to_create(tmp_path):
    path = tmp_path / "pc-typo"
    with pytest.raises(pc.NoHome, match="no postercensus home at .*pc-typo"):
        pc.open(path)
    assert not path.exists()
    created = pc.open(path, create=True)
    assert (path / CONFIG_FILENAME).is_file()
    assert created.status()["items"] == 0
    assert pc.open(path).status()["home"] == str(path)
