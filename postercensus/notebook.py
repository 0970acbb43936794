"""The notebook API over a home: `pc.open(path)` → status, refresh and the tables as DataFrames.

A `NotebookHome` is a `catalog.home.Home` with the pipeline's verbs added; they call what the CLI
calls (`homestatus.status_summary`, `refresh.run_refresh`, `analysis.load.load_tables` and the
export's tables), so a figure computed in a notebook is the figure the export and the dashboards
show for the same filters and the same active result sets.
"""
from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from postercensus.catalog.home import Home, NoHome

__all__ = ["NoHome", "NotebookHome", "TableView", "open"]

if TYPE_CHECKING:
    import pandas as pd

    from postercensus.analysis.filters import Filters
    from postercensus.analysis.load import Tables
    from postercensus.refresh import RefreshReport


def open(path: str | Path, db: str | None = None, create: bool = False) -> NotebookHome:  # noqa: A001 - `pc.open` is the API's name
    """The existing home at `path` (`~` expanded); `create=True` makes it (as `postercensus init`)
    when the folder holds none. Without `create`, a path that holds no home raises
    `catalog.home.NoHome` (as the CLI refuses it), so a mistyped path is never a new, empty home.

    `db` is a catalogue URL (as `--db`); default: the home's postercensus.toml, else its SQLite file.
    """
    home = NotebookHome(path, db, create=create)
    if create:
        home.initialise()
    return home.require()


class NotebookHome(Home):
    """A home with `status()`, `refresh()`, `tables(...)` and `methods(...)` for notebooks."""

    def status(self) -> dict[str, Any]:
        """The dict `postercensus status --json` prints."""
        from postercensus.homestatus import status_summary

        return status_summary(self)

    def refresh(self, workers: int | None = None, scheduler: str | None = None) -> RefreshReport:
        """The same run as `postercensus refresh` (raises runlock.RefreshRunning if one is running);
        the report lists every stage's status, counts and note, and its `exit_code`."""
        from postercensus.refresh import run_refresh

        return run_refresh(self, scheduler, workers)

    def methods(self, year_from: int | None = None, year_to: int | None = None,
                keywords: Iterable[str] | str = (), source: str | None = None, min_probability: float | None = None,
                model: str | None = None) -> str:
        """The methods section (Markdown) that `postercensus report methods` writes, for the figures of
        these filters (those of `tables(...)`): every number that qualifies them, from the catalogue,
        the run records, the model card and provenance (`analysis.methods.methods_markdown`)."""
        from postercensus.analysis.filters import Filters
        from postercensus.analysis.methods import methods_markdown

        keywords = (keywords,) if isinstance(keywords, str) else tuple(keywords)
        return methods_markdown(self, Filters(year_from, year_to, keywords, source, min_probability, model))

    def validation_need(self) -> dict[str, Any] | None:
        """Which confusion corrects the shares now, the 95 % interval half-width of the first label's
        corrected share over the whole collection, and the half-width expected with 50, 100 and 200
        more validation labels, each capped at the faces not validated yet (`faces_left`;
        `analysis.validation_labels.validation_need`). Works before any validation sample too (the
        card's confusion then corrects); None when no model is active or its card cannot correct."""
        from postercensus.analysis.load import load_tables
        from postercensus.analysis.validation_labels import validation_need

        return validation_need(load_tables(self))

    def tables(self, year_from: int | None = None, year_to: int | None = None,
               keywords: Iterable[str] | str = (), source: str | None = None, min_probability: float | None = None,
               model: str | None = None) -> TableView:
        """The tables under these filters (the options of `export`; min_probability None: the home's
        `[classify] threshold`, as in export and the dashboards); a filter that keeps nothing, a
        keyword or source no item has, raises FilterError at once, saying so."""
        from postercensus.analysis.filters import Filters
        from postercensus.analysis.load import load_tables

        keywords = (keywords,) if isinstance(keywords, str) else tuple(keywords)
        filters = Filters(year_from, year_to, keywords, source, min_probability, model)
        return TableView(load_tables(self), filters)


class TableView:
    """One set of filters over the loaded tables: each method returns the DataFrame of the export
    file of the same name (`by_year()` is `by_year.csv` before it is written)."""

    def __init__(self, tables: Tables, filters: Filters) -> None:
        from postercensus.analysis.selection import matched

        self.tables = tables
        self.filters = filters
        self.matched = matched(tables, filters)  # what the tables rest on; FilterError when nothing

    def __repr__(self) -> str:
        banner = self.tables.demo_banner  # a demo home's figures describe a poster generator: said first
        return f"TableView({banner + ': ' if banner else ''}{self.matched})"

    def correction(self) -> dict[str, Any] | None:
        """Which confusion corrected these tables' shares, as provenance.json records it: `source`
        ("card" or "validation"), `description`, `validation_labels`, `samples`, `prior_card_faces` and
        `note` (why validation labels were not used); None without a model that can correct."""
        from postercensus.analysis.filters import at_threshold
        from postercensus.analysis.selection import select

        selection = select(self.tables, at_threshold(self.filters, self.tables.threshold))
        used = selection.shares.correction if selection.model_id is not None else None
        return None if used is None else used.to_dict()

    def _table(self, name: str) -> pd.DataFrame:
        from postercensus.analysis.export import TABLES

        return TABLES[f"{name}.csv"](self.tables, self.filters)

    @cached_property
    def _records(self) -> dict[str, pd.DataFrame]:
        from postercensus.analysis.export import record_frames

        return record_frames(self.tables, self.filters)

    def by_gender(self) -> pd.DataFrame:
        return self._table("by_gender")

    def by_year(self) -> pd.DataFrame:
        return self._table("by_year")

    def by_decade(self) -> pd.DataFrame:
        return self._table("by_decade")

    def by_keyword(self) -> pd.DataFrame:
        return self._table("by_keyword")

    def composition(self) -> pd.DataFrame:
        return self._table("composition")

    def mentions_by_gender(self) -> pd.DataFrame:
        return self._table("mentions_by_gender")

    def agreement(self) -> pd.DataFrame:
        return self._table("agreement")

    def prominence(self) -> pd.DataFrame:
        """prominence.csv: corrected shares of faces, of face area and of each poster's largest face."""
        return self._table("prominence")

    def size_ratio(self) -> pd.DataFrame:
        """size_ratio.csv: mean face area perceived female ÷ male, with a poster-bootstrap interval."""
        return self._table("size_ratio")

    def compare(self, by: str, a: str, b: str) -> pd.DataFrame:
        """Groups `a` and `b` (two keywords, sources or decades: `by`) within these filters and B-A, the
        difference of their corrected shares with a joint-bootstrap interval (`analysis.compare`); an
        unknown group raises FilterError naming close matches. `analysis.compare.quotable(frame)` gives
        the line to quote."""
        from postercensus.analysis.compare import compare

        return compare(self.tables, by, a, b, self.filters)

    def items(self) -> pd.DataFrame:
        return self._records["items.csv"].copy()

    def faces(self) -> pd.DataFrame:
        return self._records["faces.csv"].copy()

    def mentions(self) -> pd.DataFrame:
        return self._records["mentions.csv"].copy()
