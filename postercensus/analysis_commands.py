"""`postercensus analyze` and `postercensus export OUTDIR`: the tables, cached in the home or published.

pandas and the analysis package are imported inside the commands, so the other stages' commands
do not pay for loading them.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from postercensus.context import AppContext, CommandError


def analyze_command(ctx: typer.Context) -> None:
    """Recompute every table into <home>/analysis/ (CSV, codebook.md, provenance.json).

    Incremental: when the catalogue has not changed since the last analyze (same runs, counts and
    labels), it says so and writes nothing. Each real run is recorded as stage "analyze".
    Example: postercensus --home H analyze
    """
    from analysis.cache import analyze

    context: AppContext = ctx.obj
    console = Console(soft_wrap=True)
    report = analyze(context.catalog.engine, context.home)
    if report.unchanged:
        console.print(f"catalogue unchanged since the last analyze: tables in {report.outdir} are current")
        return
    console.print(f"[bold]tables[/bold]: {len(report.paths)} file(s) written to {report.outdir}  (run #{report.run_id})")


def export_command(
    ctx: typer.Context,
    outdir: Annotated[Path, typer.Argument(help="Folder to write the CSVs, codebook.md and provenance.json into.")],
    year_from: Annotated[Optional[int], typer.Option("--year-from", help="Only items from this year on.")] = None,
    year_to: Annotated[Optional[int], typer.Option("--year-to", help="Only items up to this year.")] = None,
    keyword: Annotated[Optional[list[str]], typer.Option("--keyword", help="Only items with this keyword (repeatable: any of them).")] = None,
    source: Annotated[Optional[str], typer.Option("--source", help="Only items of this source key.")] = None,
    min_probability: Annotated[float, typer.Option("--min-probability", min=0.0, max=1.0, help="Faces whose top probability is below this count as uncertain (shares corrected at this threshold).")] = 0.0,
    model: Annotated[Optional[str], typer.Option("--model", help="Model id (default: the most recently registered one with predictions).")] = None,
) -> None:
    """Write tidy CSV tables, a codebook of every column and provenance.json to OUTDIR.

    Example: postercensus --home H export out/ --year-from 1935 --min-probability 0.7
    """
    from analysis.export import export
    from analysis.filters import Filters
    from analysis.load import load_tables

    context: AppContext = ctx.obj
    filters = Filters(year_from, year_to, tuple(keyword or ()), source, min_probability, model)
    try:
        paths = export(load_tables(context.catalog.engine, context.home), outdir, filters)
    except ValueError as error:
        raise CommandError(str(error)) from error
    console = Console(soft_wrap=True)
    console.print(f"[bold]export[/bold]: {len(paths)} file(s) written to {outdir}")
    for path in paths:
        console.print(f"  {path.name}", highlight=False)
