"""`postercensus [--home DIR] [--db URL] <stage> <verb>`: the one command line.

Thin by design: it parses options, calls the stage packages, and prints what happened and
where the results went. All behaviour lives in the stages so notebooks can use them too.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from postercensus.catalog import __version__
from postercensus.catalog.problems import standing_problems
from postercensus.catalog.runs import iso_utc, latest_run
from postercensus.analysis_commands import analyze_command, export_command
from postercensus.classify_commands import classifiers_summary, classify_app
from postercensus.commandapp import CommandApp, HelpGroup
from postercensus.config import resolve_home
from postercensus.context import AppContext, CommandError
from postercensus.dashboard_commands import dashboard_app
from postercensus.demo_commands import demo_command
from postercensus.faces_commands import faces_app, faces_summary
from postercensus.harvest_commands import harvest_app
from postercensus.refresh_commands import refresh_command
from postercensus.schedule_commands import schedule_app
from postercensus.text_commands import text_app, text_summary


class _ReportingGroup(HelpGroup):
    """Turns a CommandError from any subcommand into `Error: …` on stderr and exit code 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except CommandError as error:
            typer.echo(f"Error: {error}", err=True)
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
        "(default: $POSTERCENSUS_HOME, else ./postercensus-home).", show_default=False)] = None,
    db: Annotated[Optional[str], typer.Option(
        "--db", envvar="POSTERCENSUS_DB", help="SQLAlchemy URL of the catalogue, e.g. "
        "postgresql+psycopg://user@host/db (default: the url under 'catalog' in postercensus.toml, "
        "else <home>/catalog.sqlite).", show_default=False)] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    ctx.obj = AppContext(resolve_home(home), db)


@app.command()
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Counts of items, images and runs in the catalogue, the last run, and the problems that stand."""
    context: AppContext = ctx.obj
    summary = context.catalog.summary()
    last = latest_run(context.catalog.engine)
    summary.update(
        home=str(context.home),
        catalog=context.database_display,
        face_sets=faces_summary(context),
        classifiers=classifiers_summary(context),
        text_versions=text_summary(context),
        standing_problems=standing_problems(context.catalog.engine),
        last_run=None if last is None else {
            "id": last["id"], "stage": last["stage"], "status": last["status"],
            "started_at": iso_utc(last["started_at"]) if last["started_at"] else None,
            "counts": last["counts"],
        },
    )
    if as_json:
        print(json.dumps(summary, indent=2))
        return
    table = Table(title=f"postercensus catalogue — {context.home}")
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
    for scope in summary["standing_problems"]:
        where = scope["source"] or scope["stage"]
        for kind, problems in scope["kinds"].items():
            console.print(f"standing problems of {where} (run #{scope['last_run']}): {problems['count']:,} {kind} "
                          f"since run #{problems['first_seen_run']}, e.g. {problems['examples'][0]}",
                          highlight=False, markup=False)
    if last is not None:
        console.print(f"last run: #{last['id']} {last['stage']} — {last['status']}")


def main() -> None:
    """Console entry point."""
    app()
