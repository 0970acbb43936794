"""Plotly figures from the analysis tables: one builder per panel, shared by the page and the app.

Builders take the DataFrames `analysis.tables` returns and nothing else, so the offline page
and the Dash app cannot drift apart, and a notebook can call them too. An empty (or all-NaN)
table gives a figure that says "no data" instead of raising (no faces yet, no mentions); a
filter that matches no item never gets here: `analysis.filters` refuses it. Points and bars
carry `customdata` (year, keyword, label) so a click in the app can ask
`analysis.tables.items_for` for the posters behind them.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go

from postercensus.dashboards.names import NOT_IN_SHARES, display_name

if TYPE_CHECKING:  # the type only: dashboards read the analysis tables, which carry the typed card
    from postercensus.classify.models.modelcard import ModelCard

FEMALE = "female"
NO_DATA = "no data"
LABEL_COLOURS = {"female": "#c2185b", "male": "#1e6bb8", "uncertain": "#8c8c8c", "other": "#b0853c"}
FALLBACK_COLOUR = "#555555"
NOT_IN_SHARES_COLOUR = "#bdbdbd"  # posters without a scanned image: drawn paler, in no share
BAND_FILL = "rgba(194, 24, 91, 0.18)"
TOP_ROLES = 15
WATERMARK_COLOUR = "rgba(194, 24, 91, 0.13)"
TEMPLATE = "plotly_white"


def counted(number: float, noun: str) -> str:
    """A count in words ("1 face", "12 faces"), as the figures print it beside their shares."""
    return f"{int(number):,} {noun}{'' if int(number) == 1 else 's'}"


def label_colour(label: str) -> str:
    """One colour per label everywhere (bars, lines, face boxes), so a reader learns it once."""
    return LABEL_COLOURS.get(str(label).lower(), FALLBACK_COLOUR)


@functools.cache
def _template() -> go.layout.Template:
    """TEMPLATE as a layout holds it once plotly has validated it (the same for every figure)."""
    return go.Layout(template=TEMPLATE).template


def _with_template(figure: go.Figure) -> go.Figure:
    """`figure` with TEMPLATE, as `update_layout(template=TEMPLATE)` gives it: plotly copies the
    already validated template in, as it does its default template, instead of validating it
    again (a quarter of a second per dashboard view when each of seven figures validates it)."""
    layout = figure.layout
    layout._validate = False
    try:
        layout.template = _template()
    finally:
        layout._validate = True
    return figure


def _layout(figure: go.Figure, title: str, **layout) -> go.Figure:
    figure.update_layout(title=title, margin={"l": 60, "r": 20, "t": 60, "b": 60},
                         legend={"orientation": "h", "y": -0.2}, **layout)
    return _with_template(figure)


def mark_demo(figure: go.Figure, banner: str) -> go.Figure:
    """A large faint "DEMO" across the plot and the banner under the title, so a figure cropped,
    screenshotted or downloaded as PNG away from its page still says it shows no real data."""
    figure.add_annotation(text="DEMO", showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5, textangle=-20,
                          font={"size": 96, "color": WATERMARK_COLOUR})
    figure.update_layout(title_text=f"{figure.layout.title.text}<br><sup>{banner}</sup>")
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


def whole_step(span: float, most_ticks: int = 8) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, … that puts at most `most_ticks` ticks over `span`.

    Years and posters are whole numbers: an axis of them that plotly ticks by itself reads
    "1,941 / 1,941.5" or "0.5 posters" on a short range, so their ticks are set to whole steps.
    """
    magnitude = 1
    while True:
        for step in (magnitude, 2 * magnitude, 5 * magnitude):
            if span / step <= most_ticks:
                return step
        magnitude *= 10


def year_axis(years: Sequence[float], title: str = "year") -> dict:
    """An axis of years: whole years, no thousands separator (1941, never 1,941 or 1941.5)."""
    known = [year for year in years if pd.notna(year)]
    span = max(known) - min(known) if known else 0
    return {"title": title, "tickformat": "d", "separatethousands": False, "tick0": 0, "dtick": whole_step(span)}


def count_axis(title: str, largest: float) -> dict:
    """An axis of counts (faces, posters, mentions) from zero, ticked at whole numbers only."""
    return {"title": title, "tickformat": ",d", "tick0": 0, "dtick": whole_step(largest if pd.notna(largest) else 0),
            "rangemode": "tozero"}


def _share_axis(label: str) -> dict:
    return {"title": f"corrected {label} share of faces", "tickformat": ".0%", "rangemode": "tozero"}


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
        text=[counted(faces, f"{label} face") for faces in rows["faces"].fillna(0)],
        hovertemplate="%{x}: %{y:.1%} (%{text})<extra></extra>",
    ))
    figure.add_trace(go.Scatter(x=years, y=rows["raw_share"], mode="lines", connectgaps=False,
                                name=f"{label} (raw)", line={"color": label_colour(label), "dash": "dot", "width": 1},
                                hovertemplate="%{x}: raw %{y:.1%}<extra></extra>"))
    return _layout(figure, title, yaxis=_share_axis(label), xaxis=year_axis(years))


def share_by_decade(by_decade: pd.DataFrame, label: str = FEMALE) -> go.Figure:
    """Corrected share of `label` faces per decade with its 95 % interval as whiskers, raw share beside.

    Most collections have few dated posters a year, so the by-year line is mostly noise and gaps;
    a decade pools them. Decades without items stay on the axis with no marker (no data).
    """
    title = f"Corrected {label} share of faces by decade (95 % interval)"
    rows = pd.DataFrame() if by_decade is None or by_decade.empty else \
        by_decade[by_decade["label"] == label].sort_values("decade")
    if _is_empty(rows, "corrected_share"):
        return no_data(title)
    decades = [f"{int(decade)}s" for decade in rows["decade"]]
    totals = by_decade.groupby("decade")["faces"].sum().reindex(rows["decade"]).fillna(0)  # every label's faces
    counts = [f"{int(faces):,} {label} of {counted(total, 'face')} on {counted(items, 'poster')}"
              for faces, total, items in zip(rows["faces"].fillna(0), totals, rows["items"].fillna(0))]
    figure = go.Figure()
    figure.add_trace(go.Scatter(
        x=decades, y=rows["corrected_share"], mode="markers", name=f"{label} (corrected)",
        marker={"color": label_colour(label), "size": 11}, error_y=_error_bars(rows), hovertext=counts,
        hovertemplate="%{x}: %{y:.1%} (%{hovertext})<extra></extra>",
    ))
    figure.add_trace(go.Scatter(x=decades, y=rows["raw_share"], mode="markers", name=f"{label} (raw)",
                                marker={"color": label_colour(label), "size": 9, "symbol": "circle-open"},
                                hovertemplate="%{x}: raw %{y:.1%}<extra></extra>"))
    ticks = [f"{decade}<br>{counted(total, 'face')}" for decade, total in zip(decades, totals)]
    return _layout(figure, title, yaxis=_share_axis(label),
                   xaxis={"title": "decade (faces counted)", "type": "category", "categoryorder": "array",
                          "categoryarray": decades, "tickmode": "array", "tickvals": decades, "ticktext": ticks})


def faces_by_year(by_year: pd.DataFrame) -> go.Figure:
    """Faces per perceived-gender label and year, stacked: how much evidence each share rests on."""
    title = "Faces per perceived gender by year"
    if _is_empty(by_year, "faces") or not by_year["faces"].fillna(0).any():
        return no_data(title)
    figure = go.Figure()
    for label, rows in by_year.sort_values("year").groupby("label", sort=True):
        figure.add_trace(go.Bar(x=rows["year"], y=rows["faces"], name=str(label), marker_color=label_colour(label),
                                customdata=[[year, label] for year in rows["year"]]))
    tallest = by_year.groupby("year")["faces"].sum().max()  # the bars are stacked
    return _layout(figure, title, barmode="stack", xaxis=year_axis(by_year["year"].tolist()),
                   yaxis=count_axis("faces", tallest))


def composition(frame: pd.DataFrame) -> go.Figure:
    """Posters by who they show (no face, only female, only male, mixed, only uncertain)."""
    return _poster_counts(frame, "composition", "Poster composition by perceived gender of the faces shown",
                          "perceived gender of the poster's faces")


def _poster_counts(frame: pd.DataFrame, category: str, title: str, axis_title: str) -> go.Figure:
    """Posters per category (named for people, `names.display_name`), each bar labelled with its
    share; posters without a scanned image (`names.NOT_IN_SHARES`) are counted in paler bars
    labelled as being in no share. A category without posters says "0" above its baseline: a
    missing bar reads as missing data, not as none."""
    if _is_empty(frame, "items"):
        return no_data(title)
    apart = frame[category].isin(NOT_IN_SHARES)
    empty = frame["items"].fillna(0).eq(0)
    text = ["0" if none else "not in shares" if away else f"{share:.0%}" if pd.notna(share) else ""
            for none, away, share in zip(empty, apart, frame["share"])]
    figure = go.Figure(go.Bar(x=[display_name(kind) for kind in frame[category]], y=frame["items"],
                              text=text, textposition=["outside" if none else "auto" for none in empty],
                              cliponaxis=False,
                              marker_color=[NOT_IN_SHARES_COLOUR if away else FALLBACK_COLOUR for away in apart],
                              hovertemplate="%{x}: %{y:,} posters (%{text})<extra></extra>"))
    return _layout(figure, title, xaxis={"title": axis_title}, yaxis=count_axis("posters", frame["items"].max()))


def _error_bars(rows: pd.DataFrame) -> dict:
    """The 95 % interval as asymmetric error bars around corrected_share (error_y, or error_x for horizontal bars)."""
    share = rows["corrected_share"]
    return {"type": "data", "symmetric": False,
            "array": (rows["ci_high"] - share).clip(lower=0), "arrayminus": (share - rows["ci_low"]).clip(lower=0)}


def keywords_by_gender(frame: pd.DataFrame, label: str = FEMALE) -> go.Figure:
    """The corrected share of `label` among each keyword's faces as one horizontal bar, its 95 %
    interval as the whisker.

    One bar per keyword: with two labels the other's share is the rest of the axis, and a second
    bar beside it would only repeat the same figure in twice the ink. Horizontal, so keywords read
    level and every bar has room for its whisker; the faces each share rests on are in the
    keyword's axis label and in the hover, never printed on the bars. A click on a bar asks for
    every poster of the keyword (customdata [keyword, None]: no label), the share's whole base.
    """
    title = f"Corrected {label} share of faces by keyword (95 % intervals)"
    rows = pd.DataFrame() if frame is None or frame.empty else frame[frame["label"] == label]
    if _is_empty(rows, "corrected_share"):
        return no_data(title)
    order = list(dict.fromkeys(frame["keyword"]))  # as analysis ranked them (most items first)
    faces = frame.groupby("keyword")["faces"].sum()
    figure = go.Figure(go.Bar(
        y=rows["keyword"], x=rows["corrected_share"], orientation="h", name=f"{label} (corrected)",
        marker_color=label_colour(label), error_x=_error_bars(rows),
        customdata=[[keyword, None] for keyword in rows["keyword"]],
        hovertext=[f"{int(count):,} {label} of {counted(faces.get(keyword, 0), 'face')}"
                   + (f", interval {low:.0%}–{high:.0%}" if pd.notna(low) else "")
                   for keyword, count, low, high in zip(rows["keyword"], rows["faces"].fillna(0), rows["ci_low"],
                                                         rows["ci_high"])],
        hovertemplate="%{y}: %{x:.1%} " + label + " (%{hovertext})<extra></extra>",
    ))
    ticks = [f"{keyword} ({counted(faces.get(keyword, 0), 'face')})" for keyword in order]
    return _layout(figure, title, height=max(420, 34 * len(order) + 160),
                   xaxis={"title": f"corrected {label} share of the keyword's faces", "tickformat": ".0%",
                          "range": [0, 1]},
                   yaxis={"title": "keyword (faces counted)", "categoryorder": "array",
                          "categoryarray": list(reversed(order)), "tickmode": "array",
                          "tickvals": order, "ticktext": ticks, "automargin": True})


MEASURE_NAMES = {"faces": "every face", "area_weighted": "weighted by face area", "largest_face": "largest face only"}


def prominence_measures(frame: pd.DataFrame, label: str = FEMALE) -> go.Figure:
    """The corrected share of `label` by the three prominence measures side by side (every face
    counted once, each face weighted by its area, only each poster's largest face), each with its
    95 % interval as the whisker, and the faces (and effective faces) it rests on under its name:
    a share of area rests on fewer faces' worth of evidence when a few large faces dominate."""
    title = f"Corrected {label} share by prominence (95 % intervals)"
    rows = pd.DataFrame() if frame is None or frame.empty else frame[frame["label"] == label]
    if _is_empty(rows, "corrected_share"):
        return no_data(title)
    totals = frame.groupby("measure")["faces"].sum()
    names = [MEASURE_NAMES.get(measure, measure) for measure in rows["measure"]]
    bases = [counted(totals.get(measure, 0), "face") + (f", {effective:.1f} effective" if measure == "area_weighted"
                                                          and pd.notna(effective) else "")
             for measure, effective in zip(rows["measure"], rows["effective_faces"])]
    figure = go.Figure(go.Bar(
        x=names, y=rows["corrected_share"], name=f"{label} (corrected)", marker_color=label_colour(label),
        error_y=_error_bars(rows), hovertext=bases,
        hovertemplate="%{x}: %{y:.1%} " + label + " (%{hovertext})<extra></extra>",
    ))
    ticks = [f"{name}<br>{base}" for name, base in zip(names, bases)]
    return _layout(figure, title, yaxis={**_share_axis(label), "title": f"corrected {label} share", "range": [0, 1]},
                   xaxis={"title": "measure (faces counted)", "type": "category", "tickmode": "array",
                          "tickvals": names, "ticktext": ticks})


def top_roles(frame: pd.DataFrame, top_n: int = TOP_ROLES) -> pd.Series:
    """Mentions per role of the `top_n` roles with the most mentions, most first ("(no role)": none found)."""
    roles = frame["role_lemma"].fillna("(no role)")
    return frame.groupby(roles)["mentions"].sum().nlargest(top_n)


def text_roles(frame: pd.DataFrame, top_n: int = TOP_ROLES) -> go.Figure:
    """The `top_n` roles gendered phrases qualify in descriptions ("woman welder"), by gender."""
    title = f"Roles in descriptions by gender (top {top_n})"
    if _is_empty(frame, "mentions"):
        return no_data(title)
    frame = frame.assign(role=frame["role_lemma"].fillna("(no role)"))
    shown = top_roles(frame, top_n)
    top = shown.index
    frame = frame[frame["role"].isin(top)].groupby(["gender", "role"], as_index=False)["mentions"].sum()
    figure = go.Figure()
    for gender, rows in frame.groupby("gender", sort=True):
        figure.add_trace(go.Bar(y=rows["role"], x=rows["mentions"], name=str(gender), orientation="h",
                                marker_color=label_colour(gender)))
    return _layout(figure, title, barmode="stack", height=max(380, 28 * len(top) + 140),
                   yaxis={"title": "role the phrase qualifies", "categoryorder": "array",
                          "categoryarray": list(reversed(top)), "automargin": True},
                   xaxis=count_axis("mentions", shown.max()))


def agreement(frame: pd.DataFrame) -> go.Figure:
    """Whether a poster's text and its faces point to the same perceived gender."""
    return _poster_counts(frame, "agreement", "Text mentions vs. faces: agreement per poster",
                          "genders the text mentions vs. genders the faces show")


def _percent(value: object) -> str:
    return f"{value:.1%}" if isinstance(value, (int, float)) and not math.isnan(value) else "not recorded"


def _threshold_text(min_probability: float, home_threshold: float) -> str:
    """How this view decides a face's label, from the stored probabilities, and whether that is the
    collection's own rule (`[classify] threshold`, every view's default) or one this view chose."""
    if min_probability > 0:
        rule = (f"A face whose most probable label has a probability below {min_probability:.2f} is counted as "
                "uncertain: shown in its own category, never in a corrected share.")
    else:
        rule = ("No probability threshold: every face counted by its most probable label, "
                "however close the call.")
    if min_probability == home_threshold:
        return rule + " This is the threshold set for this collection."
    return rule + f" (The threshold set for this collection is {home_threshold:.2f}; this view chose its own.)"


def _reader_note(note: str | None) -> str:
    """A card's evaluation note without the clauses that point into the card by key ("per domain:
    `domains`"): a reader of the page has no card open, and the panel states the domain's figures."""
    clauses = [clause.strip() for clause in (note or "").split(";") if clause.strip() and "`" not in clause]
    return "; ".join(clauses)


def _calibration_text(calibration: dict | None) -> str:
    """The declared domain and its held-out figures, for a model calibrated per domain ("" otherwise)."""
    domain = (calibration or {}).get("domain")
    if not domain:
        return ""
    held_out = calibration.get("held_out") or {}
    size = f"n = {held_out['n']:,}, " if isinstance(held_out.get("n"), int) else ""
    temperature = calibration.get("temperature")
    scaled = f", temperature {temperature:.2f}" if isinstance(temperature, (int, float)) else ""
    shifted = " and a shift that evens the recall of the labels" if calibration.get("shift") else ""
    recall = held_out.get("recall") or {}
    recalls = (f"; recall {', '.join(f'{label} {_percent(value)}' for label, value in recall.items())}"
               if recall else "")
    return (f" Calibrated for {domain}, the domain declared for this collection{scaled}{shifted}: on held-out faces "
            f"of {domain} ({size}after calibration) accuracy {_percent(held_out.get('accuracy'))}, balanced "
            f"accuracy {_percent(held_out.get('balanced_accuracy'))}{recalls}; the shares are corrected with the "
            "errors on those faces.")


def methods_text(card: ModelCard | None, min_probability: float = 0.0, home_threshold: float = 0.0,
                 calibration: dict | None = None) -> list[tuple[str, str]]:
    """The methods panel as (heading, paragraph) pairs, rendered as HTML by the page and the app.

    It travels with every view of the figures because a share of "female" faces is easy to
    misread as a count of women; the panel says what was measured, by which model, how well.
    `home_threshold`: the collection's `[classify] threshold` (`Tables.threshold`), the default rule.
    `calibration`: the model's entry in provenance.json (`classify.train.domains.calibration_provenance`).
    """
    evaluation = card.evaluation if card is not None else None
    note = _reader_note(card.evaluation_note if card is not None else None)
    model = (card.model_id if card is not None else None) or "no classifier registered"
    labels = ", ".join(card.label_list) if card is not None else ""
    return [
        ("Model", f"{model}; labels {labels or 'unknown'}. "
                  f"Accuracy {_percent(evaluation.accuracy if evaluation else None)}, balanced accuracy "
                  f"{_percent(evaluation.balanced_accuracy if evaluation else None)}"
                  f"{f' ({note})' if note else ''}.{_calibration_text(calibration)}"),
        ("Thresholds", _threshold_text(min_probability, home_threshold)),
        ("Perceived gender", "Labels annotate how a depicted face reads to a classifier trained on people's "
                             "judgements: a property of the depiction, not the identity of any person. "
                             "Classifiers err more on some groups of people and on drawings, illustrations "
                             "and stylised faces than on photographs."),
        ("Corrected shares", "Raw shares are corrected for the model's measured errors (its confusion matrix "
                             "on held-out faces) and shown with 95 % intervals; a wide interval "
                             "means few faces, and years without items are left as gaps."),
    ]
