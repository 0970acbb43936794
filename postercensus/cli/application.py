"""`postercensus [--home DIR] [--db URL] <stage> <verb>`: the one command line.

This module assembles the app from the command groups beside it (one module per group) and maps
every error to one `Error:` line. Thin by design: the commands parse options, call the stage
packages, and print what happened and where the results went; all behaviour lives in the stages
so notebooks can use them too.
Only `init`, `harvest …` and `demo` create a home; every other command reads an existing one
(`catalog.home.NoHome`, exit code 2), so a mistyped --home never becomes a new, empty catalogue.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from postercensus.catalog import __version__
from postercensus.catalog.config import resolve_home
from postercensus.catalog.home import Home
from postercensus.catalog.stage import StageError
from postercensus.cli.analysis import analyze_command, export_command
from postercensus.cli.classify import classify_app
from postercensus.cli.commandapp import CommandApp, HelpGroup
from postercensus.cli.compare import compare_command
from postercensus.cli.dashboard import dashboard_app
from postercensus.cli.demo import demo_command
from postercensus.cli.faces import faces_app
from postercensus.cli.harvest import harvest_app
from postercensus.cli.init import init
from postercensus.cli.refresh import refresh_command
from postercensus.cli.report import report_app
from postercensus.cli.schedule import schedule_app
from postercensus.cli.sources import source_app
from postercensus.cli.status import status
from postercensus.cli.text import text_app


# The commands whose home may be created: every other one reads an existing home.
CREATING_COMMANDS = frozenset({"init", "harvest"})  # `demo` opens its own home


class _ReportingGroup(HelpGroup):
    """Turns a StageError from any subcommand (a stage's, the home's, or the CLI's own CommandError)
    into `Error: …` (with its hint) on stderr and its exit code (1, or 2 for a missing home): the
    one place errors are mapped. A file error no command foresaw (a full disk, a folder made
    read-only mid-run) is one `Error:` line too, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except StageError as error:
            typer.echo(f"Error: {error}", err=True)
            raise typer.Exit(getattr(error, "exit_code", 1)) from error
        except OSError as error:
            where = f": {error.filename}" if error.filename else ""
            typer.echo(f"Error: {error.strerror or error}{where} — check the path and its permissions, "
                       "then run the command again", err=True)
            raise typer.Exit(1) from error


app = CommandApp(
    cls=_ReportingGroup,
    name="postercensus",
    help=(
        "Corpus analytics for digitized poster collections: harvest items and images into a local "
        "catalogue, find faces, label their perceived gender, extract gendered phrases from the "
        "descriptions, and build tables and dashboards; `refresh` runs every stage."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(harvest_app, name="harvest")
app.add_typer(source_app, name="source")
app.add_typer(faces_app, name="faces")
app.add_typer(classify_app, name="classify")
app.add_typer(text_app, name="text")
app.add_typer(dashboard_app, name="dashboard")
app.add_typer(report_app, name="report")
app.command("analyze")(analyze_command)
app.command("export")(export_command)
app.command("compare")(compare_command)
app.command("refresh")(refresh_command)
app.command("demo")(demo_command)
app.add_typer(schedule_app, name="schedule")
app.command()(init)
app.command()(status)


def _version(value: bool) -> None:
    if value:
        print(f"postercensus {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    home: Annotated[Optional[Path], typer.Option(
        "--home", help="Folder holding the catalogue, images and postercensus.toml "
        "(default: $POSTERCENSUS_HOME, else ./postercensus-home); may also follow the command. "
        "Only init, harvest and demo create one.", show_default=False)] = None,
    db: Annotated[Optional[str], typer.Option(
        "--db", envvar="POSTERCENSUS_DB", help="SQLAlchemy URL of the catalogue, e.g. "
        "postgresql+psycopg://user@host/db (default: the url under 'catalog' in postercensus.toml, "
        "else <home>/catalog.sqlite).", show_default=False)] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    ctx.obj = Home(resolve_home(home), db, create=ctx.invoked_subcommand in CREATING_COMMANDS)


def main() -> None:
    """Console entry point."""
    app()
