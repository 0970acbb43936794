"""The posters behind a clicked bar or point: thumbnails with their face boxes, and the image route.

Boxes are absolutely positioned divs in percent of the image size, so they stay on the faces at
any thumbnail width without resizing images on the server. That size is the upright image's, as
the face stage stored it: boxes are in pixels of the image with its EXIF rotation applied (and the
browser draws it so), which for a phone photo turned by a tag is not the raw file's size. Each
face is drawn over its own image: an item with several images shows each one that has faces.
Images are served only from
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
EXIF_ORIENTATION = 0x0112
TURNED_A_QUARTER = {5, 6, 7, 8}  # EXIF orientations that swap width and height
NOT_PREDICTED = "not predicted yet"

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


def upright_size(path: Path) -> tuple[int, int]:
    """(width, height) of the image at `path` upright, from its header: the size of a scan that
    stored none (the face stage stores it for every image it reads)."""
    with Image.open(path) as image:
        width, height = image.size
        orientation = image.getexif().get(EXIF_ORIENTATION, 1)
    return (height, width) if orientation in TURNED_A_QUARTER else (width, height)


def _frame(faces: list[dict], path: Path) -> tuple[int, int]:
    """The size the faces' boxes are in: the upright size stored with them, else read from the file."""
    for face in faces:
        if face.get("image_width") and face.get("image_height"):
            return int(face["image_width"]), int(face["image_height"])
    return upright_size(path)


def face_title(face: dict) -> str:
    """A box's tooltip: its label and probability, or that the model has not seen the face yet."""
    if face.get("label") is None:
        return NOT_PREDICTED
    probability = face.get("probability")
    return f"{face['label']} ({probability:.0%})" if probability is not None else str(face["label"])


def _box(face: dict, width: int, height: int) -> html.Div:
    colour = label_colour(face["label"])
    return html.Div(className="face-box", title=face_title(face), style={
        "position": "absolute", "border": f"2px solid {colour}", "boxSizing": "border-box",
        "left": f"{100 * face['left'] / width:.2f}%", "top": f"{100 * face['top'] / height:.2f}%",
        "width": f"{100 * (face['right'] - face['left']) / width:.2f}%",
        "height": f"{100 * (face['bottom'] - face['top']) / height:.2f}%",
    })


def _picture(home: Path, relative: str, faces: list[dict], alt: str) -> html.Div | None:
    """One image with the boxes of the faces on it; None when the file is missing."""
    path = image_file(home, relative)
    if path is None:
        return None
    boxes = []
    if faces:
        width, height = _frame(faces, path)
        boxes = [_box(face, width, height) for face in faces]
    return html.Div([html.Img(src=IMAGE_ROUTE + relative, alt=alt, style={"width": "100%", "display": "block",
                                                                          "imageOrientation": "from-image"}),
                     *boxes], className="poster-image", style={"position": "relative", "marginBottom": "4px"})


def thumbnail(home: Path, item: dict) -> html.A:
    """One poster: its first image and each other image with faces, the faces boxed in colour over
    their own image, and its title; links to the item's landing page."""
    faces = item.get("faces") or []
    images = dict.fromkeys(path for path in [item.get("image_path"), *(face["image_path"] for face in faces)] if path)
    pictures = [_picture(home, image, [face for face in faces if face["image_path"] == image], item.get("title") or "")
                for image in images]
    year = item.get("year")
    caption = f"{item.get('title') or 'untitled'} ({int(year) if pd.notna(year) else 'n.d.'})"
    return html.A(
        href=item.get("landing_url") or None, target="_blank", rel="noopener", className="thumbnail",
        style={"width": THUMBNAIL_WIDTH, "display": "inline-block", "verticalAlign": "top", "margin": "6px",
               "color": "#222", "textDecoration": "none", "fontSize": "0.8rem"},
        children=[*(picture for picture in pictures if picture is not None), html.Div(caption)],
    )


def drilldown(home: Path, items: list[dict], what: str) -> list:
    """The drill-down panel's children: a heading saying what was clicked, then the thumbnails."""
    shown = items[:MAX_THUMBNAILS]
    more = f" (first {len(shown)} shown)" if len(items) > len(shown) else ""
    return [html.H3(f"{len(items):,} poster(s) for {what}{more}"),
            html.Div([thumbnail(home, item) for item in shown])]
