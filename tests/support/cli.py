"""Running the real CLI in-process, as a user would type it."""
from __future__ import annotations

import json
from pathlib import Path

from typer.testing import Result
from typer.testing import CliRunner

from postercensus.cli import app


def run_cli(home: Path, *args: str) -> Result:
    """`postercensus --home HOME ARGS…`; returns the Result (exit_code, stdout, stderr)."""
    return CliRunner().invoke(app, ["--home", str(home), *args])


def status(home: Path) -> dict:
    result = run_cli(home, "status", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)
