"""The posters behind a clicked bar or point: thumbnails with their face boxes, and the image route.

Boxes are absolutely positioned divs in percent of the image size, so they stay on the faces at
any thumbnail width without resizing images on the server. Images are served only from
`<home>/images`: the route takes a path from the browser, and nothing else of the home (the
catalogue, the config) may be read through it.
"""
from __future__ import annotations

from pathlib import Path

import flask
import pandas as pd
from dash import html
from PIL import Image

from postercensus.catalog.layout import IMAGES_DIRNAME
from postercensus.dashboards.figures import label_colour

IMAGE_ROUTE = "/poster-images/"

MAX_THUMBNAILS = 60
THUMBNAIL_WIDTH = "180px"


def image_file(home: Path, relative: str) -> Path | None:
    """The file `relative` (home-relative) names, or None when it is missing or outside <home>/images."""
    root = (home / IMAGES_DIRNAME).resolve()
    path = (home / relative).resolve()
    return path if path.is_relative_to(root) and path.is_file() else None


def register_image_route(server: flask.Flask, home: Path) -> None:
    """`GET /poster-images/<home-relative path>` on the Dash app's Flask server."""

    def poster_image(relative: str) -> flask.Response:
        path = image_file(home, relative)
        if path is None:
            flask.abort(404)
        return flask.send_file(path, max_age=3600)

    server.add_url_rule(f"{IMAGE_ROUTE}<path:relative>", "poster_image", poster_image)


def _box(face: dict, width: int, height: int) -> html.Div:
    colour = label_colour(face["label"])
    return html.Div(className="face-box", title=f"{face['label']} ({face['probability']:.0%})", style={
        "position": "absolute", "border": f"2px solid {colour}", "boxSizing": "border-box",
        "left": f"{100 * face['left'] / width:.2f}%", "top": f"{100 * face['top'] / height:.2f}%",
        "width": f"{100 * (face['right'] - face['left']) / width:.2f}%",
        "height": f"{100 * (face['bottom'] - face['top']) / height:.2f}%",
    })


def thumbnail(home: Path, item: dict) -> html.A:
    """One poster: image, coloured face boxes, title; links to the item's landing page."""
    path = image_file(home, item["image_path"]) if item.get("image_path") else None
    picture: list = []
    if path is not None:
        with Image.open(path) as image:  # reads the header only
            width, height = image.size
        picture = [html.Img(src=IMAGE_ROUTE + item["image_path"], alt=item.get("title") or "",
                            style={"width": "100%", "display": "block"}),
                   *(_box(face, width, height) for face in item.get("faces") or [])]
    year = item.get("year")
    caption = f"{item.get('title') or 'untitled'} ({int(year) if pd.notna(year) else 'n.d.'})"
    return html.A(
        href=item.get("landing_url") or None, target="_blank", rel="noopener", className="thumbnail",
        style={"width": THUMBNAIL_WIDTH, "display": "inline-block", "verticalAlign": "top", "margin": "6px",
               "color": "#222", "textDecoration": "none", "fontSize": "0.8rem"},
        children=[html.Div(picture, style={"position": "relative"}), html.Div(caption)],
    )


def drilldown(home: Path, items: list[dict], what: str) -> list:
    """The drill-down panel's children: a heading saying what was clicked, then the thumbnails."""
    shown = items[:MAX_THUMBNAILS]
    more = f" (first {len(shown)} shown)" if len(items) > len(shown) else ""
    return [html.H3(f"{len(items):,} poster(s) for {what}{more}"),
            html.Div([thumbnail(home, item) for item in shown])]
