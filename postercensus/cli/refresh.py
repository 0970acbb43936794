"""`postercensus refresh`: the unattended run that cron or a systemd timer starts.

Exit codes, for schedulers and scripts: 0 every stage ok, also when the only problems are ones
the previous run of the same source or stage reported too (summarised in one line per kind);
1 a stage failed (earlier results stay, later dependent stages skipped, all retried next time);
2 finished, but met a problem about an item that the previous run did not report (a new failed
image, bad record or missing file; stored with its run); 3 another refresh of this home is running.
Exit code 2 with one `Error:` line and nothing run: there is no home at the path (`catalog.home.NoHome`).
"""
from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from postercensus.catalog.problems import ProblemKind
from postercensus.catalog.home import Home
from postercensus.cli.context import existing_home
from postercensus.refresh import EXIT_RUNNING, RefreshReport, run_refresh
from postercensus.runlock import RefreshRunning

LOG_WIDTH = 1000  # wider than any row: the table is only as wide as its content
# kind → (what the new ones are, what the standing ones are)
PROBLEM_WORDS = {
    ProblemKind.IMAGE_MISSING: ("images newly missing", "images still missing"),
    ProblemKind.IMAGE_FAILED: ("images newly failed", "images still failing"),
    ProblemKind.RECORD_SKIPPED: ("records newly skipped", "records still skipped"),
    ProblemKind.RECORD_WARNING: ("new record warnings", "record warnings still reported"),
    ProblemKind.ITEM_ERROR: ("new item errors", "item errors still reported"),
}


def refresh_command(
    ctx: typer.Context,
    scheduler: Annotated[Optional[str], typer.Option("--scheduler", help="Dask scheduler address (tcp://HOST:PORT) for face detection.", show_default=False)] = None,
    workers: Annotated[Optional[int], typer.Option("--workers", min=1, help="Local processes for face detection (default: all cores; 1 runs in this process).", show_default=False)] = None,
) -> None:
    """Repeat every registered harvest, then faces → classify → text → analyze → export → dashboard.

    Only what changed is processed. Writes <home>/export/ and <home>/dashboard.html. Exit codes:
    0 ok (also when the only problems are standing ones, reported by the previous run too),
    1 a stage failed, 2 a new problem (a failed image, bad record or missing file the previous
    run did not report; or, with nothing run, no home at the path), 3 another refresh is running.
    Example: postercensus --home H refresh --workers 4
    """
    context = existing_home(ctx)
    console = summary_console()
    try:
        report = run_refresh(context, scheduler, workers, Console(stderr=True, soft_wrap=True))
    except RefreshRunning as running:
        typer.echo(f"Error: {running}", err=True)
        raise typer.Exit(EXIT_RUNNING) from running
    print_refresh_summary(console, context, report)
    raise typer.Exit(report.exit_code)


def summary_console() -> Console:
    """Standard output; in a log file (cron, systemd) one table row per line, never folded."""
    console = Console(soft_wrap=True)
    return console if console.is_terminal else Console(soft_wrap=True, width=LOG_WIDTH)


def print_refresh_summary(console: Console, context: Home, report: RefreshReport) -> None:
    """The stage table and where the results went (also printed by `demo`)."""
    table = Table(title=f"refresh — {context.path}")
    for column in ("stage", "status", "counts", "note"):
        table.add_column(column, overflow="fold")
    for result in report.stages:
        counts = ", ".join(f"{key} {value:,}" for key, value in result.counts.items())
        table.add_row(result.stage, result.status, counts, result.note)
    console.print(table)
    for line in problem_lines(report):
        console.print(line, highlight=False, markup=False)
    console.print(f"export: {report.export_dir}", highlight=False)
    console.print(f"dashboard: {report.dashboard}", highlight=False)
    console.print(f"catalogue: {context.database_display}", highlight=False)


def problem_lines(report: RefreshReport) -> list[str]:
    """One line per stage and kind of problem: the new ones (exit 2), then the standing ones (exit 0)."""
    lines = []
    for result in report.stages:
        for kind in result.problems:
            new_words, standing_words = PROBLEM_WORDS[kind.kind]
            if kind.new:
                lines.append(f"{kind.new:,} {new_words} ({result.stage}); `status` lists them")
            if kind.standing:
                lines.append(f"{kind.standing:,} {standing_words} since run {kind.first_seen_run} "
                             f"({result.stage}); `status` lists them")
    return lines
