"""Plotly figures from the analysis tables: one builder per panel, shared by the page and the app.

Builders take the DataFrames `analysis.tables` returns and nothing else, so the offline page
and the Dash app cannot drift apart, and a notebook can call them too. An empty (or all-NaN)
table gives a figure that says "no data" instead of raising (no faces yet, no mentions); a
filter that matches no item never gets here: `analysis.filters` refuses it. Points and bars
carry `customdata` (year, keyword, label) so a click in the app can ask
`analysis.tables.items_for` for the posters behind them.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

FEMALE = "female"
NO_DATA = "no data"
LABEL_COLOURS = {"female": "#c2185b", "male": "#1e6bb8", "uncertain": "#8c8c8c", "other": "#b0853c"}
FALLBACK_COLOUR = "#555555"
BAND_FILL = "rgba(194, 24, 91, 0.18)"
TOP_ROLES = 15


def label_colour(label: str) -> str:
    """One colour per label everywhere (bars, lines, face boxes), so a reader learns it once."""
    return LABEL_COLOURS.get(str(label).lower(), FALLBACK_COLOUR)


def _layout(figure: go.Figure, title: str, **layout) -> go.Figure:
    figure.update_layout(title=title, template="plotly_white", margin={"l": 60, "r": 20, "t": 60, "b": 60},
                         legend={"orientation": "h", "y": -0.2}, **layout)
    return figure


def no_data(title: str) -> go.Figure:
    """A figure whose only content is the words "no data", with the panel's title kept."""
    figure = go.Figure()
    figure.add_annotation(text=NO_DATA, showarrow=False, font={"size": 18, "color": FALLBACK_COLOUR},
                          xref="paper", yref="paper", x=0.5, y=0.5)
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return _layout(figure, title)


def _is_empty(frame: pd.DataFrame | None, value_column: str) -> bool:
    return frame is None or frame.empty or value_column not in frame or frame[value_column].isna().all()


def _band_polygons(x: list, low: list, high: list) -> tuple[list, list]:
    """Closed outlines of the interval, one per run of years that have one, separated by None.

    A single `fill="toself"` trace with None separators fills each run on its own, so a gap
    year leaves a gap in the band as it does in the line (tonexty would bridge it).
    """
    xs: list = []
    ys: list = []
    run: list[tuple] = []
    for point in [*zip(x, low, high), None]:
        if point is not None and not (math.isnan(point[1]) or math.isnan(point[2])):
            run.append(point)
            continue
        if run:
            years, lows, highs = zip(*run)
            xs += [*years, *reversed(years), years[0], None]
            ys += [*highs, *reversed(lows), highs[0], None]
            run = []
    return xs, ys


def share_over_time(by_year: pd.DataFrame, label: str = FEMALE) -> go.Figure:
    """Corrected share of `label` faces per year, with its 95 % interval as a band; gaps stay gaps."""
    title = f"Corrected {label} share of faces by year (95 % interval)"
    rows = pd.DataFrame() if by_year is None or by_year.empty else \
        by_year[by_year["label"] == label].sort_values("year")
    if _is_empty(rows, "corrected_share"):
        return no_data(title)
    years = rows["year"].tolist()
    low = rows["ci_low"].astype(float).tolist()
    high = rows["ci_high"].astype(float).tolist()
    band_x, band_y = _band_polygons(years, low, high)
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=band_x, y=band_y, fill="toself", fillcolor=BAND_FILL, mode="lines",
                                line={"width": 0}, hoverinfo="skip", name="95 % interval"))
    figure.add_trace(go.Scatter(
        x=years, y=rows["corrected_share"], mode="lines+markers", connectgaps=False, name=f"{label} (corrected)",
        line={"color": label_colour(label)}, customdata=[[year, label] for year in years],
        text=[f"{faces:,} faces" for faces in rows["faces"].fillna(0).astype(int)],
        hovertemplate="%{x}: %{y:.1%} (%{text})<extra></extra>",
    ))
    figure.add_trace(go.Scatter(x=years, y=rows["raw_share"], mode="lines", connectgaps=False,
                                name=f"{label} (raw)", line={"color": label_colour(label), "dash": "dot", "width": 1},
                                hovertemplate="%{x}: raw %{y:.1%}<extra></extra>"))
    return _layout(figure, title, yaxis={"tickformat": ".0%", "rangemode": "tozero"}, xaxis={"title": "year"})


def faces_by_year(by_year: pd.DataFrame) -> go.Figure:
    """Faces per perceived-gender label and year, stacked: how much evidence each share rests on."""
    title = "Faces per perceived gender by year"
    if _is_empty(by_year, "faces") or not by_year["faces"].fillna(0).any():
        return no_data(title)
    figure = go.Figure()
    for label, rows in by_year.sort_values("year").groupby("label", sort=True):
        figure.add_trace(go.Bar(x=rows["year"], y=rows["faces"], name=str(label), marker_color=label_colour(label),
                                customdata=[[year, label] for year in rows["year"]]))
    return _layout(figure, title, barmode="stack", xaxis={"title": "year"}, yaxis={"title": "faces"})


def composition(frame: pd.DataFrame) -> go.Figure:
    """Posters by who they show (no face, only female, only male, mixed, only uncertain)."""
    return _poster_counts(frame, "composition", "Poster composition by perceived gender of the faces shown")


def _poster_counts(frame: pd.DataFrame, category: str, title: str) -> go.Figure:
    """Posters per category, each bar labelled with its share of all posters."""
    if _is_empty(frame, "items"):
        return no_data(title)
    figure = go.Figure(go.Bar(x=frame[category], y=frame["items"], text=[f"{s:.0%}" for s in frame["share"]],
                              textposition="auto", marker_color=FALLBACK_COLOUR))
    return _layout(figure, title, yaxis={"title": "posters"})


def _error_bars(rows: pd.DataFrame) -> dict:
    share = rows["corrected_share"]
    return {"type": "data", "symmetric": False,
            "array": (rows["ci_high"] - share).clip(lower=0), "arrayminus": (share - rows["ci_low"]).clip(lower=0)}


def keywords_by_gender(frame: pd.DataFrame) -> go.Figure:
    """Corrected share per label within each keyword, with 95 % intervals as error bars."""
    title = "Perceived gender of faces by keyword (corrected shares, 95 % intervals)"
    if _is_empty(frame, "corrected_share"):
        return no_data(title)
    order = list(dict.fromkeys(frame["keyword"]))  # as analysis ranked them (most items first)
    figure = go.Figure()
    for label, rows in frame.groupby("label", sort=True):
        figure.add_trace(go.Bar(
            x=rows["keyword"], y=rows["corrected_share"], name=str(label), marker_color=label_colour(label),
            error_y=_error_bars(rows), customdata=[[keyword, label] for keyword in rows["keyword"]],
            text=[f"{faces:,} faces" for faces in rows["faces"].fillna(0).astype(int)],
            hovertemplate="%{x}: %{y:.1%} (%{text})<extra>%{fullData.name}</extra>",
        ))
    return _layout(figure, title, barmode="group", yaxis={"tickformat": ".0%"},
                   xaxis={"categoryorder": "array", "categoryarray": order, "tickangle": -40})


def text_roles(frame: pd.DataFrame, top_n: int = TOP_ROLES) -> go.Figure:
    """The `top_n` roles gendered phrases qualify in descriptions ("woman welder"), by gender."""
    title = f"Roles in descriptions by gender (top {top_n})"
    if _is_empty(frame, "mentions"):
        return no_data(title)
    frame = frame.assign(role=frame["role_lemma"].fillna("(no role)"))
    top = frame.groupby("role")["mentions"].sum().nlargest(top_n).index
    frame = frame[frame["role"].isin(top)].groupby(["gender", "role"], as_index=False)["mentions"].sum()
    figure = go.Figure()
    for gender, rows in frame.groupby("gender", sort=True):
        figure.add_trace(go.Bar(y=rows["role"], x=rows["mentions"], name=str(gender), orientation="h",
                                marker_color=label_colour(gender)))
    return _layout(figure, title, barmode="stack", height=max(380, 28 * len(top) + 140),
                   yaxis={"categoryorder": "array", "categoryarray": list(reversed(top))}, xaxis={"title": "mentions"})


def agreement(frame: pd.DataFrame) -> go.Figure:
    """Whether a poster's text and its faces point to the same perceived gender."""
    return _poster_counts(frame, "agreement", "Text mentions vs. faces: agreement per poster")


def _percent(value: object) -> str:
    return f"{value:.1%}" if isinstance(value, (int, float)) and not math.isnan(value) else "not recorded"


def methods_text(card: dict | None, min_probability: float = 0.0,
                 stored_thresholds: Sequence[float] = ()) -> list[tuple[str, str]]:
    """The methods panel as (heading, paragraph) pairs, rendered as HTML by the page and the app.

    It travels with every view of the figures because a share of "female" faces is easy to
    misread as a count of women; the panel says what was measured, by which model, how well.
    """
    card = card or {}
    evaluation = card.get("evaluation") or {}
    note = card.get("evaluation_note")
    model = card.get("model_id") or "no classifier registered"
    stored = ", ".join(f"{threshold:.2f}" for threshold in stored_thresholds) or "not recorded"
    return [
        ("Model", f"{model}; labels {', '.join(card.get('labels') or []) or 'unknown'}. "
                  f"Accuracy {_percent(evaluation.get('accuracy'))}, balanced accuracy "
                  f"{_percent(evaluation.get('balanced_accuracy'))}"
                  f"{f' ({note})' if note else ''}."),
        ("Thresholds", f"A face whose most probable label is below the classifier's threshold ({stored}) is "
                       f"counted as uncertain; this view also treats faces below probability "
                       f"{min_probability:.2f} as uncertain."),
        ("Perceived gender", "Labels annotate how a depicted face reads to a classifier trained on people's "
                             "judgements: a property of the depiction, not the identity of any person. "
                             "Classifiers err more on some groups of people and on drawings, illustrations "
                             "and stylised faces than on photographs."),
        ("Corrected shares", "Raw shares are corrected for the model's measured errors (its confusion matrix "
                             "on held-out poster faces) and shown with 95 % intervals; a wide interval "
                             "means few faces, and years without items are left as gaps."),
    ]
