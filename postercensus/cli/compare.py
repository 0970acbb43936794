"""`postercensus compare --by keyword|source|decade A B`: two groups of posters and their difference.

The command parses and prints; the comparison (a joint bootstrap of the difference) is
`analysis.compare`, which the notebook's `t.compare(by=, a=, b=)` calls too. pandas and the analysis
package are imported inside the command, as in `cli.analysis`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from postercensus.cli.context import existing_home, writable_file
from postercensus.cli.filter_options import Keyword, MinProbability, Model, Source, YearFrom, YearTo, make_filters


def compare_command(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="Group A: a keyword, source key or decade (1930 or 1930s).")],
    b: Annotated[str, typer.Argument(help="Group B, of the same kind; the difference is B − A.")],
    by: Annotated[str, typer.Option("--by", help="What A and B are: keyword, source or decade.")] = "keyword",
    out: Annotated[Optional[Path], typer.Option(
        "--out", help="CSV to write (default: <home>/comparisons/<by>-<A>-vs-<B>.csv).", show_default=False)] = None,
    year_from: YearFrom = None,
    year_to: YearTo = None,
    keyword: Keyword = None,
    source: Source = None,
    min_probability: MinProbability = None,
    model: Model = None,
) -> None:
    """Compare two groups' corrected shares; print the line to quote and where the CSV went.

    The CSV has the rows A, B and B-A per label (group, value, label, faces, corrected_share, ci_low,
    ci_high); B-A is the difference of the corrected shares, its 95 % interval from a joint bootstrap
    (one draw of the classifier's error rates for both groups). A group no selected item has is an
    error naming close matches. The filters narrow the items first (as for `export`).
    Example: postercensus --home H compare --by keyword agriculture industry --out cmp.csv
    """
    from postercensus.analysis.compare import compare, default_path, quotable, write_comparison
    from postercensus.analysis.load import load_tables

    context = existing_home(ctx)
    target = out if out is not None else default_path(context.path, by, a, b)
    writable_file(target, "--out")
    filters = make_filters(year_from, year_to, keyword, source, min_probability, model)
    tables = load_tables(context)
    table = compare(tables, by, a, b, filters)  # a FilterError (unknown group, nothing selected) is one line
    written = write_comparison(table, target)
    if tables.demo_banner:
        typer.echo(tables.demo_banner)
    typer.echo(quotable(table))
    typer.echo(f"comparison written to {written.resolve()}")
