"""`postercensus analyze` and `postercensus export OUTDIR`: the tables, cached in the home or published.

pandas and the analysis package are imported inside the commands, so the other stages' commands
do not pay for loading them.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from postercensus.context import AppContext, CommandError
from postercensus.filter_options import Keyword, MinProbability, Model, Source, YearFrom, YearTo, make_filters


def analyze_command(ctx: typer.Context) -> None:
    """Compute every table into <home>/analysis/ (CSV, codebook.md, provenance.json), incrementally.

    Incremental: when nothing the tables are computed from has changed since the last analyze, it
    says so and writes nothing. Each real run is recorded as stage "analyze".
    Example: postercensus --home H analyze
    """
    from postercensus.analysis.cache import analyze

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
    year_from: YearFrom = None,
    year_to: YearTo = None,
    keyword: Keyword = None,
    source: Source = None,
    min_probability: MinProbability = 0.0,
    model: Model = None,
) -> None:
    """Write tidy CSV tables, a codebook of every column and provenance.json to OUTDIR.

    Filters that select nothing (reversed years, a keyword or source no item has, a set that keeps
    no item) are an error and write nothing; otherwise it says how many items, images and faces
    the tables rest on.
    Example: postercensus --home H export out/ --year-from 1935 --min-probability 0.7
    """
    from postercensus.analysis.export import export
    from postercensus.analysis.load import load_tables
    from postercensus.analysis.selection import matched

    context: AppContext = ctx.obj
    filters = make_filters(year_from, year_to, keyword, source, min_probability, model)
    tables = load_tables(context.catalog.engine, context.home)
    try:
        found = matched(tables, filters)
        paths = export(tables, outdir, filters)
    except ValueError as error:  # FilterError: an unknown keyword, source or model, or no item left
        raise CommandError(str(error)) from error
    console = Console(soft_wrap=True)
    console.print(f"[bold]export[/bold]: {found}; {len(paths)} file(s) written to {outdir}")
    for path in paths:
        console.print(f"  {path.name}", highlight=False)
