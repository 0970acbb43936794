"""Which panels a dashboard shows, in what order, under which element ids, computed from the tables.

The offline page and the Dash app both call `build_figures`, so they show the same figures
under the same ids (tests and readers' bookmarks rely on them), and each analysis table is
computed once per view even when two panels draw from it. A demo home's figures are all marked
as such (`figures.mark_demo`), whichever view shows them.
"""
from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go

from postercensus.analysis import tables as analysis
from postercensus.analysis.filters import Filters, at_threshold
from postercensus.analysis.load import Tables
from postercensus.dashboards import facebase, figures


@dataclass(frozen=True)
class Panel:
    id: str
    caption: str  # one line under the figure: how to read it


SHARE_OVER_TIME = "fig-share-over-time"
SHARE_BY_DECADE = "fig-share-by-decade"
FACES_BY_YEAR = "fig-faces-by-year"
COMPOSITION = "fig-composition"
KEYWORDS = "fig-keywords"
PROMINENCE = "fig-prominence"
TEXT_ROLES = "fig-text-roles"
AGREEMENT = "fig-agreement"

PANELS = (
    Panel(SHARE_OVER_TIME, "Line: share corrected for classifier errors; band: its 95 % interval; dotted: raw share."),
    Panel(SHARE_BY_DECADE, "The same share pooled by decade, where a few posters a year add up; whiskers: 95 % "
                            "interval; hollow: raw share."),
    Panel(FACES_BY_YEAR, "How many faces each year's share rests on."),
    Panel(COMPOSITION, "Each poster counted once, by the perceived genders of all its faces."),
    Panel(KEYWORDS, "Keywords with the most posters, most first; whiskers: 95 % intervals; in brackets: the "
                    "faces the shares rest on."),
    Panel(PROMINENCE, "Who is prominent: every face counted once, each face weighted by its share of the poster, "
                      "and only each poster's largest face; whiskers: 95 % intervals."),
    Panel(TEXT_ROLES, "Gendered phrases in descriptions (\"woman welder\"), by the role they qualify."),
    Panel(AGREEMENT, "Does the text mention the same gender the faces show?"),
)
FACE_PANELS = (SHARE_OVER_TIME, SHARE_BY_DECADE, FACES_BY_YEAR, COMPOSITION, KEYWORDS, PROMINENCE)  # each states its base (facebase)


def build_figures(tables: Tables, filters: Filters) -> dict[str, go.Figure]:
    """Every panel's figure for these filters, keyed by panel id in PANELS order."""
    by_year = analysis.by_year(tables, filters)
    composition = analysis.composition(tables, filters)
    agreement = analysis.agreement_summary(tables, filters)
    roles = analysis.mentions_by_role(tables, filters)
    built = {
        SHARE_OVER_TIME: figures.share_over_time(by_year),
        SHARE_BY_DECADE: figures.share_by_decade(analysis.by_decade(tables, filters)),
        FACES_BY_YEAR: figures.faces_by_year(by_year),
        COMPOSITION: figures.composition(composition),
        KEYWORDS: figures.keywords_by_gender(analysis.by_keyword(tables, filters, with_ratios=False)),
        PROMINENCE: figures.prominence_measures(analysis.prominence(tables, filters)),
        TEXT_ROLES: facebase.with_base(figures.text_roles(roles), facebase.roles_base_text(roles)),
        AGREEMENT: facebase.with_base(figures.agreement(agreement), facebase.agreement_base_text(agreement)),
    }
    facebase.state_bases(built, FACE_PANELS, analysis.face_base(composition))
    if tables.demo_banner:
        for figure in built.values():
            figures.mark_demo(figure, tables.demo_banner)
    return built


def model_id(tables: Tables, filters: Filters) -> str | None:
    """The model the figures use: the filter's choice, else the last registered (analysis's default)."""
    return filters.model_id or next(reversed(tables.models), None)


def methods(tables: Tables, filters: Filters) -> list[tuple[str, str]]:
    """The methods panel for this view (see `figures.methods_text`), at the threshold its figures use."""
    chosen = model_id(tables, filters)
    recorded = tables.provenance.get("models", {}).get(chosen) or {}
    decided = at_threshold(filters, tables.threshold)
    return figures.methods_text(tables.models.get(chosen), decided.min_probability, tables.threshold,
                                recorded.get("calibration"))
