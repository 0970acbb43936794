"""The drill-down draws each face over its own upright image, says when a face is not predicted yet;
the export's records carry what a researcher goes back to the source for and a unique face row key.

The catalogue is tests.support.dashboarddb's five posters plus two more made here:
poster 6 has two images, a JPEG stored sideways with an EXIF orientation tag (its raw file is
300×200, upright 200×300, as the face stage measured it) whose face is predicted, and a PNG whose
face the model has not seen yet; poster 7's image has the same bytes as poster 1's, so it shows
poster 1's faces (the same face ids) too.
"""
from __future__ import annotations

import csv
import hashlib
from datetime import datetime, timezone
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from dash import html
from PIL import Image, ImageOps
from sqlalchemy import insert, select

from postercensus.analysis.export import export, record_frames
from postercensus.analysis.filters import Filters
from postercensus.analysis.load import Tables, load_tables
from postercensus.analysis.tables import items_for
from postercensus.catalog import schema
from postercensus.dashboards.drilldown import NOT_PREDICTED, thumbnail, upright_size
from postercensus.dashboards.panels import KEYWORDS, PANELS
from postercensus.notebook import TableView
from tests.support.browser import serving_app
from tests.support.dashboarddb import FACE_SET, MODEL_ID, build_catalogue

UPRIGHT = (200, 300)  # the sideways JPEG as a person sees it (and the face stage measured it)
EXIF_BOX = (20, 200, 80, 260)  # its face, in upright pixels: low on the left
PNG_BOX = (100, 40, 160, 100)
FACE_RED = (220, 20, 20)
EXIF_ROTATE_CLOCKWISE = 6  # "rotate 90° clockwise to display"
SOURCE_TEXT = {"creator": "WPA Federal Art Project", "description": "A woman welder at a shipyard.",
               "rights": "No known restrictions on publication."}


def sideways_jpeg() -> bytes:
    """A JPEG whose raw pixels lie on their side (300×200) with the EXIF tag that turns them upright,
    as a phone or scanner writes it; upright, a red square sits at EXIF_BOX."""
    upright = Image.new("RGB", UPRIGHT, (235, 225, 200))
    upright.paste(FACE_RED, EXIF_BOX)
    raw = upright.transpose(Image.Transpose.ROTATE_90)  # what orientation 6 turns back clockwise
    exif = Image.Exif()
    exif[0x0112] = EXIF_ROTATE_CLOCKWISE
    out = BytesIO()
    raw.save(out, format="JPEG", quality=95, exif=exif.tobytes())
    return out.getvalue()


def _store(home: Path, data: bytes, suffix: str) -> tuple[str, str]:
    sha = hashlib.sha256(data).hexdigest()
    relative = f"images/{sha[:2]}/{sha}{suffix}"
    (home / relative).parent.mkdir(parents=True, exist_ok=True)
    (home / relative).write_bytes(data)
    return sha, relative


def build_extended(home: Path) -> None:
    """dashboarddb's catalogue with posters 6 (two images, one sideways, one face not predicted) and 7
    (poster 1's image bytes)."""
    engine = build_catalogue(home)
    now = datetime(2024, 1, 1, tzinfo=timezone.utc)
    png = BytesIO()
    Image.new("RGB", (200, 300), (200, 210, 230)).save(png, format="PNG")
    with engine.begin() as db:
        source = db.execute(select(schema.sources.c.id)).scalar()
        faces_run = db.execute(select(schema.runs.c.id).where(schema.runs.c.stage == "faces")).scalar()
        classify_run = db.execute(select(schema.runs.c.id).where(schema.runs.c.stage == "classify")).scalar()

        def item(number: int, keywords: list[str], **fields) -> int:
            return db.execute(insert(schema.items).values(
                source_id=source, source_item_id=f"poster{number}", title=f"Poster {number}", year=1944,
                date="1944", keywords=keywords, source_keywords=keywords,
                landing_url=f"https://example.org/poster{number}", content_hash=f"{number:064d}", raw={},
                updated_at=now, **fields)).inserted_primary_key[0]

        def image(item_id: int, position: int, sha: str, relative: str, size: tuple[int, int]) -> None:
            db.execute(insert(schema.images).values(item_id=item_id, position=position, origin=f"/{relative}",
                                                    sha256=sha, path=relative, format=relative[-3:], width=size[0],
                                                    height=size[1], status="ok", attempts=1))

        def face(sha: str, box: tuple[int, int, int, int], predicted: bool) -> None:
            db.execute(insert(schema.face_scans).values(image_sha256=sha, parameter_hash=FACE_SET, run_id=faces_run,
                                                        status="ok", width=UPRIGHT[0], height=UPRIGHT[1],
                                                        face_count=1, scanned_at=now))
            face_id = db.execute(insert(schema.faces).values(
                image_sha256=sha, parameter_hash=FACE_SET, face_index=0, left=box[0], top=box[1], right=box[2],
                bottom=box[3], score=1.0, detectors=["hog"], landmarks5=[], landmarks68=[], embedding=[],
                crop_path="", run_id=faces_run)).inserted_primary_key[0]
            if predicted:
                db.execute(insert(schema.predictions).values(
                    face_id=face_id, model_id=MODEL_ID, model_version="v1", label="female", top_label="female",
                    probability=0.9, margin=0.8, probabilities={"female": 0.9, "male": 0.1}, threshold=0.0,
                    run_id=classify_run, predicted_at=now))

        six = item(6, ["welding"], **SOURCE_TEXT)
        jpeg_sha, jpeg_path = _store(home, sideways_jpeg(), ".jpg")
        png_sha, png_path = _store(home, png.getvalue(), ".png")
        image(six, 0, jpeg_sha, jpeg_path, (300, 200))  # the raw file's size, as the harvest stores it
        image(six, 1, png_sha, png_path, (200, 300))
        face(jpeg_sha, EXIF_BOX, predicted=True)
        face(png_sha, PNG_BOX, predicted=False)
        seven = item(7, ["war"])
        first = db.execute(select(schema.images).where(schema.images.c.position == 0)
                           .order_by(schema.images.c.item_id)).first()
        image(seven, 0, first.sha256, first.path, (first.width, first.height))


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("drilldown") / "home"
    build_extended(path)
    return path


@pytest.fixture(scope="module")
def tables(home) -> Tables:
    return load_tables(home)


def _poster(tables: Tables, title: str) -> dict:
    items = items_for(tables, Filters(), year=1944)
    return next(item for item in items.to_dict("records") if item["title"] == title)


def _boxes(component) -> list[html.Div]:
    """The face boxes of a rendered thumbnail, in document order."""
    found = []
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children] if children is not None else []:
        if isinstance(child, html.Div) and getattr(child, "className", None) == "face-box":
            found.append(child)
        elif child is not None and not isinstance(child, str):
            found += _boxes(child)
    return found


def _pictures(card: html.A) -> list[html.Div]:
    return [child for child in card.children if getattr(child, "className", None) == "poster-image"]


def test_the_sideways_jpeg_is_what_the_test_means():
    with Image.open(BytesIO(sideways_jpeg())) as raw:
        assert raw.size == (300, 200) and raw.getexif()[0x0112] == EXIF_ROTATE_CLOCKWISE
        upright = ImageOps.exif_transpose(raw)
    assert upright.size == UPRIGHT
    left, top, right, bottom = EXIF_BOX
    assert np.asarray(upright.crop((left + 5, top + 5, right - 5, bottom - 5))).mean(axis=(0, 1))[0] > 180


def test_a_face_not_predicted_yet_is_drawn_and_says_so(tables, home):
    poster = _poster(tables, "Poster 6")
    unseen = next(face for face in poster["faces"] if face["label"] is None)
    assert unseen["probability"] is None
    card = thumbnail(home, poster)  # raised TypeError: unsupported format string passed to NoneType
    titles = [box.title for box in _boxes(card)]
    assert titles == ["female (90%)", NOT_PREDICTED]


def test_each_face_is_drawn_over_its_own_image(tables, home):
    poster = _poster(tables, "Poster 6")
    pictures = _pictures(thumbnail(home, poster))
    assert [picture.children[0].src.rsplit(".", 1)[1] for picture in pictures] == ["jpg", "png"]
    assert [len(_boxes(picture)) for picture in pictures] == [1, 1], "every face over the first image before"
    assert _boxes(pictures[1])[0].title == NOT_PREDICTED


def test_boxes_on_an_exif_rotated_image_are_placed_in_its_upright_size(tables, home):
    poster = _poster(tables, "Poster 6")
    jpeg_face = next(face for face in poster["faces"] if face["image_path"].endswith(".jpg"))
    assert (jpeg_face["image_width"], jpeg_face["image_height"]) == UPRIGHT  # stored by the face stage
    style = _boxes(_pictures(thumbnail(home, poster))[0])[0].style
    # left 20/200, top 200/300, 60/200 wide, 60/300 high; the raw 300×200 put the box at top 100 %
    assert (style["left"], style["top"], style["width"], style["height"]) == ("10.00%", "66.67%", "30.00%", "20.00%")


def test_without_a_stored_size_the_upright_size_is_read_from_the_file(home, tables):
    poster = _poster(tables, "Poster 6")
    jpeg = home / next(face for face in poster["faces"] if face["image_path"].endswith(".jpg"))["image_path"]
    assert upright_size(jpeg) == UPRIGHT
    unsized = {**poster, "faces": [{**face, "image_width": None, "image_height": None} for face in poster["faces"]]}
    style = _boxes(_pictures(thumbnail(home, unsized))[0])[0].style
    assert (style["left"], style["top"]) == ("10.00%", "66.67%")


def test_in_the_browser_the_box_sits_on_the_face_of_the_upright_image(home, tmp_path, browser):
    with serving_app(home) as url:
        page = browser.page
        page.goto(url + "/")
        for panel in PANELS:
            page.wait_for_selector(f"#{panel.id} .main-svg", timeout=20000)
        keywords = page.evaluate(f"document.querySelector('#{KEYWORDS} .js-plotly-plot').data[0].y")
        bar = page.locator(f"#{KEYWORDS} .barlayer .trace .point path").nth(keywords.index("welding"))
        bar.scroll_into_view_if_needed()
        box = bar.bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_selector("#drilldown .poster-image img", timeout=15000)
        page.wait_for_function("[...document.querySelectorAll('#drilldown img')].every(i => i.complete)",
                               timeout=15000)
        picture = page.locator("#drilldown a.thumbnail", has_text="Poster 6").locator(".poster-image").first
        picture.scroll_into_view_if_needed()
        image = picture.locator("img").bounding_box()
        face = picture.locator(".face-box").bounding_box()
        assert image["height"] / image["width"] == pytest.approx(UPRIGHT[1] / UPRIGHT[0], rel=0.02), \
            "the browser draws the JPEG upright"
        assert ((face["x"] - image["x"]) / image["width"], (face["y"] - image["y"]) / image["height"]) == \
            pytest.approx((0.1, 200 / 300), abs=0.02)
        shot = page.screenshot(clip={"x": face["x"] + 4, "y": face["y"] + 4, "width": face["width"] - 8,
                                     "height": face["height"] - 8})
        (tmp_path / "face.png").write_bytes(shot)
        red, green, blue = np.asarray(Image.open(BytesIO(shot)).convert("RGB"), dtype=float).mean(axis=(0, 1))
        assert red > 150 and green < 100 and blue < 100, "the box frames the red face"
        assert browser.errors == []


def test_items_carry_creator_description_and_rights_in_the_export_and_the_notebook(tables, tmp_path):
    export(tables, tmp_path)
    with (tmp_path / "items.csv").open(newline="", encoding="utf-8") as handle:
        rows = {row["title"]: row for row in csv.DictReader(handle)}
    assert {column: rows["Poster 6"][column] for column in SOURCE_TEXT} == SOURCE_TEXT
    assert rows["Poster 7"]["creator"] == "" and rows["Poster 7"]["rights"] == ""  # none given: empty
    items = TableView(tables, Filters()).items()  # `t.items()` of the notebook
    assert items.set_index("title").loc["Poster 6", list(SOURCE_TEXT)].to_dict() == SOURCE_TEXT
    codebook = (tmp_path / "codebook.md").read_text(encoding="utf-8")
    assert all(f"| {column} |" in codebook.split("## faces.csv")[0] for column in SOURCE_TEXT)


def test_faces_csv_has_a_unique_row_key_where_two_items_share_an_image(tables, tmp_path):
    export(tables, tmp_path)
    with (tmp_path / "faces.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    face_ids = [row["face_id"] for row in rows]
    assert len(set(face_ids)) < len(face_ids), "posters 1 and 7 share an image, so they repeat its face ids"
    keys = [row["face_row"] for row in rows]
    assert len(set(keys)) == len(keys) == len(record_frames(tables)["faces.csv"])
    assert all(row["face_row"] == f"{row['item_id']}-{row['face_id']}" for row in rows)
    shared = [row for row in rows if row["face_id"] == face_ids[0]]
    assert len({row["item_id"] for row in shared}) == 2
    codebook = (tmp_path / "codebook.md").read_text(encoding="utf-8").split("## faces.csv")[1].split("\n## ")[0]
    assert "| face_row | Key of the row, unique in the file" in codebook
    assert "| image_width |" in codebook
