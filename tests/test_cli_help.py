"""`--help` says what the commands do, without Typer's type artefacts; `status --json` times carry their zone."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from postercensus.cli import app
from tests.support.cli import run_cli, status
from tests.support.images import make_jpeg


def _command_paths(group: TyperGroup, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    for name, command in group.commands.items():
        paths += _command_paths(command, (*prefix, name)) if isinstance(command, TyperGroup) else [(*prefix, name)]
    return paths


COMMANDS = _command_paths(typer.main.get_command(app))


def help_text(home: Path, *command: str) -> str:
    """The help of `command` as one line of words (box drawing and wrapping removed)."""
    result = CliRunner().invoke(app, ["--home", str(home), *command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return " ".join(result.stdout.replace("│", " ").split())


def _option_help(text: str, option: str) -> str:
    """What the help says of `option`: the words after it, up to the next option."""
    return re.search(rf"{re.escape(option)} (.*?)(?= --[a-z]|$)", text).group(1)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda path: " ".join(path) or "postercensus")
def test_help_shows_no_type_artefacts(home, command):
    result = CliRunner().invoke(app, ["--home", str(home), *command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.stdout
    usage = next(line for line in result.stdout.splitlines() if "Usage:" in line)
    assert not re.search(r"\{\w+\}", usage), usage  # arguments read OUTDIR, not {outdir}


def test_usage_names_arguments_in_capitals(home):
    assert "export [OPTIONS] OUTDIR " in help_text(home, "export")
    assert "classify train [OPTIONS] [FOLDER] " in help_text(home, "classify", "train")


def test_ensemble_help_says_min_votes_makes_detectors_agree(home):
    text = help_text(home, "faces", "detect")
    assert "union" not in _option_help(text, "--detector")
    votes = _option_help(text, "--min-votes")
    assert "the default 2 means two detectors must agree" in votes and "not a union" in votes
    assert "[default: 2]" in votes


def test_top_level_help_names_the_stages_without_later(home):
    text = help_text(home)
    assert "later stages" not in text
    assert "find faces, label their perceived gender" in text


def test_status_help_names_the_validation_and_agreement_lines(home):
    text = help_text(home, "status")
    assert "50, 100 and 200 more validation labels (capped at the faces left unlabelled)" in text
    assert "Krippendorff's alpha" in text and "the faces to adjudicate" in text


def test_analyze_help_says_it_is_incremental(home):
    assert "incrementally" in help_text(home).split(" analyze ", 1)[1].split(" export ", 1)[0]
    assert "nothing the tables are computed from has changed" in help_text(home, "analyze")


def test_model_defaults_are_worded_the_same_in_every_command(home):
    analysis = {_option_help(help_text(home, *command), "--model") for command in (("export",), ("dashboard", "build"))}
    assert analysis == {"<str> Model id whose predictions decide the faces (default: the active model, [classify] "
                        "in postercensus.toml, when it has predictions; else the most recently registered model "
                        "with predictions)."}
    predict = _option_help(help_text(home, "classify", "predict"), "--model")
    evaluate = help_text(home, "classify", "evaluate").split("MODEL <str> ", 1)[1].split(" [required]")[0]
    assert predict.startswith("<str> " + evaluate)
    assert evaluate == "A model folder, or `default` (the shipped perceived-gender model)."


def test_harvest_folder_workers_says_what_it_does_with_local_files(home):
    workers = _option_help(help_text(home, "harvest", "folder"), "--workers")
    assert "download" not in workers
    assert "copied into the home, hashed and fully decoded" in workers


def test_status_json_times_carry_their_timezone(home, tmp_path):
    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(make_jpeg())
    assert run_cli(home, "harvest", "folder", str(folder)).exit_code == 0
    started = datetime.fromisoformat(status(home)["last_run"]["started_at"])
    assert started.utcoffset() == timedelta(0)  # UTC, said so, like provenance.json's times


@pytest.mark.parametrize("command", ["detect", "scan"])
def test_box_scale_help_says_why_it_enlarges_the_box_and_what_it_leaves_alone(home, command):
    scale = _option_help(help_text(home, "faces", command), "--box-scale")
    assert "about its centre" in scale and "forehead and hair" in scale
    assert "descriptor always use the detector's own box" in scale
    assert "[default: 1.4]" in scale
