"""Every face figure says how many posters it rests on (the roles figure: how many mentions), and a
view with no scanned image says so.

A share of faces read without its base misleads: "no face on 947 posters" and "7 of 947 posters
scanned, none shows a face" are different findings. The base comes from the composition table
(`analysis.tables.face_base`) and the agreement summary, so the page and the app state the
same numbers as the CSVs.
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from postercensus.analysis.face_status import UNSCANNED
from postercensus.analysis.tables import FaceBase
from postercensus.dashboards import figures
from postercensus.dashboards.names import display_name

SUBTITLE_MARGIN = 95  # top margin (px) that fits a title and its one-line subtitle


def _in_words(unscanned: dict[str, int]) -> str:
    """{no_image: 940, not_scanned: 2, failed: 0} → '940 no image, 2 not scanned yet'."""
    return ", ".join(f"{count:,} {display_name(status)}" for status, count in unscanned.items() if count)


def base_text(base: FaceBase) -> str:
    """The base of the face figures, e.g. 'Faces found on 3 of 7 posters with a scanned image
    (947 posters in this view; 940 no image)'."""
    others = _in_words(base.unscanned)
    return (f"Faces found on {base.with_faces:,} of {figures.counted(base.scanned, 'poster')} with a scanned image "
            f"({figures.counted(base.items, 'poster')} in this view{f'; {others}' if others else ''})")


def agreement_base_text(summary: pd.DataFrame) -> str:
    """The base of the agreement figure (from `agreement_summary`): faces are compared on scanned
    posters only; posters with mentions and no scanned image are counted apart, in no share."""
    counts = dict(zip(summary["agreement"], summary["items"].astype(int)))
    if not sum(counts.values()):
        return ""
    others = _in_words({status: counts.pop(status, 0) for status in UNSCANNED})
    return (f"Text and faces compared on {figures.counted(sum(counts.values()), 'poster')} with a scanned image"
            f"{f'; with mentions but no scanned image, counted apart: {others}' if others else ''}")


def roles_base_text(roles: pd.DataFrame, top_n: int = figures.TOP_ROLES) -> str:
    """The base of the roles figure (from `mentions_by_role`): every gendered mention outside titles,
    and how many of them the top roles drawn hold."""
    if roles.empty or not roles["mentions"].sum():
        return ""
    total = int(roles["mentions"].sum())
    top = figures.top_roles(roles, top_n)
    shown = f"all in the {len(top)} roles shown" if int(top.sum()) == total else \
        f"{int(top.sum()):,} of them in the {len(top)} roles shown"
    return f"n = {figures.counted(total, 'gendered mention')} outside titles ({shown})"


def no_scanned_image_text(base: FaceBase) -> str:
    return f"No poster in this view has a scanned image ({figures.counted(base.items, 'poster')}: {_in_words(base.unscanned)})"


def with_base(figure: go.Figure, text: str) -> go.Figure:
    """`figure` with `text` (if any) as its title's subtitle."""
    if not text:
        return figure
    figure.update_layout(title_subtitle_text=text, margin_t=max(figure.layout.margin.t or 0, SUBTITLE_MARGIN))
    return figure


def no_scanned_image(figure: go.Figure, base: FaceBase) -> go.Figure:
    """In place of `figure` (same title): a message that the view has no scanned image, no axes."""
    message = figures.no_data(figure.layout.title.text)
    message.layout.annotations[0].text = no_scanned_image_text(base)
    return message


def state_bases(panels: dict[str, go.Figure], face_panels: tuple[str, ...], base: FaceBase) -> dict[str, go.Figure]:
    """`panels` with the base stated on every face figure; where the view has posters but none
    with a scanned image, the face figures say that instead of drawing empty axes (an empty view
    keeps its "no data")."""
    for panel in face_panels:
        if base.items and not base.scanned:
            panels[panel] = no_scanned_image(panels[panel], base)
        elif base.items:
            with_base(panels[panel], base_text(base))
    return panels
