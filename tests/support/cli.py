"""Running the real CLI in-process, as a user would type it."""
from __future__ import annotations

import json
from pathlib import Path

import tomli_w
from typer.testing import Result
from typer.testing import CliRunner

from postercensus.catalog.database import default_url
from postercensus.cli import app
from postercensus.catalog.layout import CONFIG_FILENAME


def run_cli(home: Path, *args: str) -> Result:
    """`postercensus --home HOME ARGS…`; returns the Result (exit_code, stdout, stderr)."""
    return CliRunner().invoke(app, ["--home", str(home), *args])


def ok(result: Result) -> str:
    """The stdout of a command that must succeed (exit code 0; the output and exception when not)."""
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def error_line(result: Result) -> str:
    """The one `Error: …` line a refused command must print (exit code 1, no traceback)."""
    assert result.exit_code == 1, (result.output, result.exception)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def use_catalog(home: Path, url: str) -> None:
    """Point the home at `url` under `[catalog] url` in its postercensus.toml, as a user does for
    scheduled refreshes; the default SQLite URL is left to the default, as a user leaves it."""
    if url != default_url(home):
        home.mkdir(parents=True, exist_ok=True)
        (home / CONFIG_FILENAME).write_text(tomli_w.dumps({"catalog": {"url": url}}), encoding="utf-8")


def status(home: Path) -> dict:
    result = run_cli(home, "status", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)
