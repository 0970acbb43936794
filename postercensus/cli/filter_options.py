"""The filter options shared by `export` and `dashboard build`: one wording, one check.

The checks themselves live in `analysis.filters` (the Python API raises the same FilterError);
here they become the CLI's one-line `Error: …` with exit code 1, raised before anything is written.
`analysis` (and pandas) is imported only when a command runs, as in `cli.analysis`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Optional

import typer

if TYPE_CHECKING:
    from postercensus.analysis.filters import Filters

YearFrom = Annotated[Optional[int], typer.Option("--year-from", help="Only items from this year on.",
                                                  show_default=False)]
YearTo = Annotated[Optional[int], typer.Option("--year-to", help="Only items up to this year.", show_default=False)]
Keyword = Annotated[Optional[list[str]], typer.Option(
    "--keyword", metavar="<str>", show_default=False,
    help="Only items with this keyword (repeatable: any of them); one no item has is an error naming close matches.")]
Source = Annotated[Optional[str], typer.Option("--source", help="Only items of this source key.", show_default=False)]
MinProbability = Annotated[Optional[float], typer.Option(
    "--min-probability", show_default=False, help="Faces whose top probability is below this (0–1) count as "
    "uncertain (shares corrected at this threshold). Default: \\[classify] threshold in postercensus.toml, else 0.")]
Model = Annotated[Optional[str], typer.Option(
    "--model", show_default=False,
    help="Model id whose predictions decide the faces (default: the active model, \\[classify] in postercensus.toml, "
    "when it has predictions; else the most recently registered model with predictions).")]


def make_filters(year_from: int | None, year_to: int | None, keywords: list[str] | None, source: str | None,
                 min_probability: float | None, model: str | None) -> Filters:
    """The options as Filters; reversed years or a probability outside 0–1 fail here (a FilterError,
    printed as one line like every StageError)."""
    from postercensus.analysis.filters import Filters  # pandas: loaded only by the commands that filter

    return Filters(year_from, year_to, tuple(keywords or ()), source, min_probability, model)
