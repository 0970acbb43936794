"""`postercensus report methods OUT.md`: the texts a researcher publishes beside the figures.

The command parses and prints; the section is written by `analysis.methods` (the notebook's
`home.methods()` returns the same Markdown). pandas and the analysis package are imported inside
the command, as in `cli.analysis`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from postercensus.cli.commandapp import CommandApp
from postercensus.cli.context import existing_home, writable_file
from postercensus.cli.filter_options import Keyword, MinProbability, Model, Source, YearFrom, YearTo, make_filters

report_app = CommandApp(
    help="Texts to publish beside the figures: `methods` writes the methods section (Markdown) with every "
    "number that qualifies them, read from the catalogue, the run records and the model card.",
    no_args_is_help=True,
)


@report_app.command()
def methods(
    ctx: typer.Context,
    out: Annotated[Path, typer.Argument(help="Where to write the section, e.g. methods.md.")],
    year_from: YearFrom = None,
    year_to: YearTo = None,
    keyword: Keyword = None,
    source: Source = None,
    min_probability: MinProbability = None,
    model: Model = None,
) -> None:
    """Write the methods section (Markdown) of the figures to OUT, every number read from the records.

    It names the collection and its harvest dates, items, scanned images and faces, the detector and its settings, the model with its per-domain accuracy and
    calibration, the correction and interval method, the labelled faces, intercoder agreement, the text
    pipeline, software versions and how to cite.

    Give the filters of the figures it describes (as for `export`); filters that select nothing are an
    error and write nothing.
    Example: postercensus --home H report methods methods.md --year-from 1940
    """
    from postercensus.analysis.methods import write_methods

    context = existing_home(ctx)
    writable_file(out, "OUT")
    filters = make_filters(year_from, year_to, keyword, source, min_probability, model)
    written = write_methods(context, out, filters)  # a FilterError (nothing selected) is the one-line error
    typer.echo(f"methods section written to {written.resolve()}")
