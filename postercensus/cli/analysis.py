"""`postercensus analyze` and `postercensus export OUTDIR`: the tables, cached in the home or published.

pandas and the analysis package are imported inside the commands, so the other stages' commands
do not pay for loading them.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from postercensus.cli.context import existing_home, writable_folder
from postercensus.cli.filter_options import Keyword, MinProbability, Model, Source, YearFrom, YearTo, make_filters


def analyze_command(ctx: typer.Context) -> None:
    """Compute every table into <home>/analysis/ (CSV, codebook.md, provenance.json), incrementally.

    Incremental: when nothing the tables are computed from has changed since the last analyze, it
    says so and writes nothing. Each real run is recorded as stage "analyze".
    Example: postercensus --home H analyze
    """
    from postercensus.analysis.stage import Analyze

    context = existing_home(ctx)
    console = Console(soft_wrap=True)
    report = Analyze().run(context)
    outdir = report.facts.outdir
    if report.facts.unchanged:
        console.print(f"catalogue unchanged since the last analyze: tables in {outdir} are current")
        return
    console.print(f"[bold]tables[/bold]: {report.counts['files']} file(s) written to {outdir}  (run #{report.run_id})")


def export_command(
    ctx: typer.Context,
    outdir: Annotated[Path, typer.Argument(help="Folder to write the CSVs, codebook.md and provenance.json into.")],
    year_from: YearFrom = None,
    year_to: YearTo = None,
    keyword: Keyword = None,
    source: Source = None,
    min_probability: MinProbability = None,
    model: Model = None,
) -> None:
    """Write tidy CSV tables, a codebook of every column and provenance.json to OUTDIR.

    Filters that select nothing (reversed years, a keyword or source no item has, a set that keeps
    no item) are an error and write nothing; otherwise it says how many items, images and faces
    the tables rest on.
    Example: postercensus --home H export out/ --year-from 1935 --min-probability 0.7
    """
    from postercensus.analysis.stage import Export

    from postercensus.homestatus import stages_not_run

    context = existing_home(ctx)
    writable_folder(outdir, "OUTDIR")
    filters = make_filters(year_from, year_to, keyword, source, min_probability, model)
    report = Export(outdir, filters).run(context)  # a FilterError (nothing selected) is the one-line error
    console = Console(soft_wrap=True)
    paths = report.facts.paths
    console.print(f"[bold]export[/bold]: {report.facts.matched}; {len(paths)} file(s) written to {outdir}")
    for path in paths:
        console.print(f"  {path.name}", highlight=False)
    for line in stages_not_run(context):
        console.print(line, style="yellow", markup=False, highlight=False)
