"""`postercensus [--home DIR] [--db URL] <stage> <verb>`: the one command line.

Thin by design: it parses options, calls the stage packages, and prints what happened and
where the results went. All behaviour lives in the stages so notebooks can use them too.
Only `init`, `harvest …` and `demo` create a home; every other command reads an existing one
(`catalog.home.NoHome`, exit code 2), so a mistyped --home never becomes a new, empty catalogue.
"""
from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from postercensus.analysis_commands import analyze_command, export_command
from postercensus.catalog import __version__
from postercensus.catalog.config import resolve_home
from postercensus.catalog.home import Home
from postercensus.catalog.stage import StageError
from postercensus.classify_commands import classify_app
from postercensus.commandapp import CommandApp, HelpGroup
from postercensus.context import existing_home
from postercensus.dashboard_commands import dashboard_app
from postercensus.demo_commands import demo_command
from postercensus.faces_commands import faces_app
from postercensus.harvest_commands import harvest_app
from postercensus.homestatus import status_summary
from postercensus.refresh_commands import refresh_command
from postercensus.schedule_commands import schedule_app
from postercensus.source_commands import source_app
from postercensus.text_commands import text_app


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
app.command("analyze")(analyze_command)
app.command("export")(export_command)
app.command("refresh")(refresh_command)
app.command("demo")(demo_command)
app.add_typer(schedule_app, name="schedule")


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


@app.command()
def init(
    ctx: typer.Context,
    directory: Annotated[Optional[Path], typer.Argument(
        help="The home folder to create (default: --home, else $POSTERCENSUS_HOME, else ./postercensus-home).",
        show_default=False)] = None,
) -> None:
    """Create an empty home: the folder, its postercensus.toml and the catalogue.

    Every other command (but `harvest …` and `demo`) reads an existing home only, and exits
    with code 2 when there is none. Running it on an existing home changes nothing.
    Example: postercensus init ~/pc
    """
    context: Home = ctx.obj if directory is None else ctx.obj.elsewhere(resolve_home(directory), None)
    created = context.initialise()
    console = Console(soft_wrap=True)
    if not created:
        console.print(f"a postercensus home already exists at {context.path}; nothing changed", highlight=False)
        return
    console.print(f"[bold]home created[/bold]: {context.path}", highlight=False)
    console.print(f"catalogue: {context.database_display}", highlight=False)
    console.print(f"next: postercensus --home {shlex.quote(str(context.path))} harvest csv|oai|iiif|folder …  "
                  "(then `refresh` runs every stage)", highlight=False)


@app.command()
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Counts of items, images and runs in the catalogue, the last run, and the problems that stand."""
    context = existing_home(ctx)
    summary = status_summary(context)
    last = summary["last_run"]
    if as_json:
        print(json.dumps(summary, indent=2))
        return
    table = Table(title=f"postercensus catalogue — {context.path}")
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, value in summary.items():
        if isinstance(value, int):
            table.add_row(key.replace("_", " "), f"{value:,}")
    console = Console()
    console.print(table)
    console.print(f"catalogue: {summary['catalog']}")
    for face_set in summary["face_sets"]:
        console.print(
            f"faces, result set {face_set['parameter_hash']} ({face_set['detector']}): {face_set['faces']:,} faces "
            f"in {face_set['images_scanned']:,} images ({face_set['images_failed']:,} unreadable)"
        )
    for model in summary["classifiers"]:
        counts = ", ".join(f"{label} {n:,}" for label, n in sorted(model["labels"].items())) or "no predictions"
        console.print(f"classifier {model['model_id']} ({model['model_version']}): {counts}")
    for version in summary["text_versions"]:
        counts = ", ".join(f"{gender} {n:,}" for gender, n in sorted(version["mentions"].items())) or "no mentions"
        console.print(f"text, version {version['version_hash']}: {version['items_scanned']:,} items scanned; {counts}")
    for line in _active_lines(summary["active"]):
        console.print(line, highlight=False, markup=False)
    need = summary.get("validation_need")
    if need:
        console.print(_need_line(need), highlight=False, markup=False)
    for agreement in summary["coding_agreement"]:  # where two or more coders labelled the same faces
        console.print(f"intercoder agreement, {agreement['line']}", highlight=False, markup=False)
    for scope in summary["standing_problems"]:
        where = scope["source"] or scope["stage"]
        for kind, problems in scope["kinds"].items():
            console.print(f"standing problems of {where} (run #{scope['last_run']}): {problems['count']:,} {kind} "
                          f"since run #{problems['first_seen_run']}, e.g. {problems['examples'][0]}",
                          highlight=False, markup=False)
    if last is not None:
        console.print(f"last run: #{last['id']} {last['stage']} — {last['status']}")


def _need_line(need: dict) -> str:
    """The corrected share's interval half-width now and with more validation labels (issue 23)."""
    if "error" in need:
        return f"validation sample: {need['error']}"
    more = ", ".join(f"+{extra}: ±{width:.3f}" for extra, width in need["with_more_labels"].items())
    return (f"corrected {need['label']} share: ±{need['half_width']:.3f} (95 %), corrected with {need['correction']}; "
            f"expected with more validation labels {more}")


def _active_lines(active: dict) -> list[str]:
    """What the tables read: each stage's active settings ([faces], [classify], [text] in postercensus.toml)."""
    def settings(table: dict) -> str:
        return ", ".join(f"{key}={value}" for key, value in table.items()) or "defaults"

    if "error" in active:
        return [f"active result sets: {active['error']}"]
    faces, classify, text = active["faces"], active["classify"], active["text"]
    return [
        f"active face set: {faces['parameter_hash'] or 'none yet (run faces detect or refresh)'} "
        f"([faces] {settings(faces['settings'])})",
        f"active predictions: {classify['model_id']} {classify['model_version']}"
        f"{'' if classify['predicted'] else ' (none stored yet)'} ([classify] {settings(classify['settings'])})",
        f"active text version: {text['version_hash'] or 'none yet (run text extract or refresh)'} "
        f"([text] {settings(text['settings'])})",
    ]


def main() -> None:
    """Console entry point."""
    app()
