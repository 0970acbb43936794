"""The labelling loop: queue order, label storage, the server's refusals and the page in chromium.

The catalogue is generated per test (a poster, six faces with crops, two registered models);
what was stored is read back with plain sqlite3, so a wrong write is not hidden by a wrong read.
"""
from __future__ import annotations

import json
import sqlite3
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from sqlalchemy import Engine, delete, insert, update

from postercensus.catalog import schema
from postercensus.catalog.database import default_url, open_engine
from postercensus.catalog.runs import start_run
from postercensus.classify.label import labelqueue
from postercensus.classify.label.labelserver import LabellingServer
from tests.support.browser import chromium_page

SHA = "a" * 64
POSTER_PATH = "images/aa/poster.jpg"
BOXES = {1: (60, 80, 160, 200), 2: (300, 90, 390, 200), 3: (420, 300, 540, 440),
         4: (80, 500, 180, 620), 5: (250, 480, 350, 600), 6: (450, 600, 540, 700)}
# the newest model's margins: queue order 3, 1, 5, 2, then 4 (no prediction); 6 is already labelled
MARGINS_V2 = {3: 0.05, 1: 0.16, 5: 0.40, 2: 0.70, 6: 0.01}
MARGINS_V1 = {1: 0.30, 2: 0.10, 3: 0.50, 4: 0.20, 5: 0.90, 6: 0.60}
EXPECTED_ORDER = [3, 1, 5, 2, 4]


@dataclass
class Home:
    path: Path
    engine: Engine

    def labels(self) -> dict[int, tuple[str, str]]:
        """face_labels as {face_id: (label, labelled_by)}, read without the code under test."""
        connection = sqlite3.connect(self.path / "catalog.sqlite")
        try:
            rows = connection.execute("SELECT face_id, label, labelled_by FROM face_labels").fetchall()
        finally:
            connection.close()
        return {face_id: (label, by) for face_id, label, by in rows}


def _save_jpeg(path: Path, pixels: np.ndarray, boxes: dict[int, tuple[int, int, int, int]] | None = None) -> None:
    image = Image.fromarray(pixels.astype(np.uint8), "RGB")
    for box in (boxes or {}).values():
        ImageDraw.Draw(image).ellipse(box, fill=(230, 200, 170))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="JPEG")


def _build_catalogue(home: Path) -> Engine:
    """One item's poster (plus a second item holding the same file, and a withdrawn copy) with
    six faces, predictions from an older and a newer model, and face 6 labelled already."""
    home.mkdir(parents=True)
    engine = open_engine(default_url(home))
    ys, xs = np.mgrid[0:800, 0:600]
    _save_jpeg(home / POSTER_PATH, np.stack([xs * 255 / 600, ys * 255 / 800, np.full_like(xs, 120)], -1), BOXES)
    now = datetime.now(timezone.utc)
    run_id = start_run(engine, "faces", {})
    with engine.begin() as connection:
        source_id = connection.execute(insert(schema.sources).values(
            key="folder:/posters", kind="folder", location="/posters", params={}, created_at=now,
        )).inserted_primary_key[0]
        item_ids = [connection.execute(insert(schema.items).values(
            source_id=source_id, source_item_id=name, title=title, keywords=[], landing_url=url,
            content_hash=name, raw={}, updated_at=now, deleted=False,
        )).inserted_primary_key[0] for name, title, url in [
            ("poster.jpg", "Concert poster 1968", "https://example.org/items/1"),
            ("copy.jpg", "The same poster again", "https://example.org/items/2"),
        ]]
        connection.execute(insert(schema.images), [
            dict(item_id=item_ids[0], position=0, origin="/posters/poster.jpg", sha256=SHA, path=POSTER_PATH,
                 status="ok", attempts=1),
            dict(item_id=item_ids[1], position=0, origin="/posters/copy.jpg", sha256=SHA, path=POSTER_PATH,
                 status="ok", attempts=1),
            dict(item_id=item_ids[1], position=1, origin="/posters/old.jpg", sha256=SHA, path="images/old.jpg",
                 status="withdrawn", attempts=1),
        ])
        connection.execute(insert(schema.face_sets).values(
            parameter_hash="p1", detector="hog", parameters={}, model_versions={}, created_at=now))
        for face_id, (left, top, right, bottom) in BOXES.items():
            crop = f"crops/p1/{SHA[:8]}_{face_id}.jpg"
            _save_jpeg(home / crop, np.full((224, 224, 3), (face_id * 40) % 256))
            connection.execute(insert(schema.faces).values(
                id=face_id, image_sha256=SHA, parameter_hash="p1", face_index=face_id - 1, left=left, top=top,
                right=right, bottom=bottom, score=1.0, detectors=["hog"], landmarks5=[], landmarks68=[],
                embedding=[], crop_path=crop, run_id=run_id,
            ))
        for version, registered, margins in [("v1", now - timedelta(days=2), MARGINS_V1),
                                             ("v2", now - timedelta(days=1), MARGINS_V2)]:
            connection.execute(insert(schema.classifier_models).values(
                model_id="gender", model_version=version, backbone="vgg16", labels=["female", "male"], card={},
                location="models/gender", registered_at=registered,
            ))
            connection.execute(insert(schema.predictions), [dict(
                face_id=face_id, model_id="gender", model_version=version, label="male", top_label="male",
                probability=(1 + margin) / 2, margin=margin, probabilities={}, threshold=0.6, run_id=run_id,
                predicted_at=now,
            ) for face_id, margin in margins.items()])
        # registered last, never run: must not become the default ordering
        connection.execute(insert(schema.classifier_models).values(
            model_id="gender", model_version="v3", backbone="vgg16", labels=["female", "male"], card={},
            location="models/gender", registered_at=now,
        ))
        connection.execute(insert(schema.face_labels).values(
            face_id=6, label="female", labelled_by="seed study", labelled_at=now))
    return engine


@pytest.fixture
def catalogue(tmp_path: Path):
    engine = _build_catalogue(tmp_path / "home")
    yield Home(tmp_path / "home", engine)
    engine.dispose()


@pytest.fixture
def server(catalogue: Home):
    with LabellingServer(catalogue.engine, catalogue.path) as running:
        yield running


def _request(server: LabellingServer, path: str, body: dict | None = None, headers: dict | None = None):
    """(status, content type, body bytes) of one request, error statuses included."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **(headers or {})} if body is not None else headers or {}
    request = urllib.request.Request(server.url.rstrip("/") + path, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get_content_type(), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get_content_type(), error.read()


# -- the queue ---------------------------------------------------------------------------------


def test_queue_is_unlabelled_faces_most_uncertain_first(catalogue: Home) -> None:
    queue = labelqueue.next_faces(catalogue.engine, 20, None, set())
    assert [face.face_id for face in queue] == EXPECTED_ORDER  # newest model with predictions (v2)
    first = queue[0]
    assert (first.predicted_label, first.margin) == ("male", 0.05)
    assert first.crop_path == f"crops/p1/{SHA[:8]}_3.jpg"
    assert first.image_path == POSTER_PATH  # never the withdrawn copy
    assert first.box == BOXES[3]
    assert (first.item_title, first.landing_url) == ("Concert poster 1968", "https://example.org/items/1")
    assert queue[-1].predicted_label is None and queue[-1].margin is None


def test_queue_follows_a_chosen_model_limit_and_exclusions(catalogue: Home) -> None:
    def ids(**kwargs) -> list[int]:
        options = {"limit": 20, "model": None, "exclude": set()} | kwargs
        return [face.face_id for face in labelqueue.next_faces(catalogue.engine, **options)]

    assert ids(model=("gender", "v1")) == [2, 4, 1, 3, 5]
    assert ids(limit=2) == [3, 1]
    assert ids(exclude={3, 5}) == [1, 2, 4]
    assert ids(model=("gender", "v3")) == [1, 2, 3, 4, 5]  # a model without predictions: face order
    with catalogue.engine.begin() as connection:
        connection.execute(delete(schema.predictions))
    assert ids() == [1, 2, 3, 4, 5]


def test_set_and_clear_label(catalogue: Home) -> None:
    engine = catalogue.engine
    assert labelqueue.set_label(engine, 3, "male", "tester") is None
    assert labelqueue.set_label(engine, 3, "female", "tester") == "male"
    assert catalogue.labels()[3] == ("female", "tester")
    assert labelqueue.label_counts(engine) == {"female": 2}
    assert 3 not in [face.face_id for face in labelqueue.next_faces(engine, 20, None, set())]
    labelqueue.clear_label(engine, 3)
    assert 3 not in catalogue.labels()
    assert labelqueue.count_unlabelled(engine) == 5
    with pytest.raises(LookupError):
        labelqueue.set_label(engine, 99, "male", "tester")


# -- the server --------------------------------------------------------------------------------


def test_server_serves_queue_and_face_files(server: LabellingServer, catalogue: Home) -> None:
    status, kind, body = _request(server, "/api/queue?n=2&exclude=3")
    assert (status, kind) == (200, "application/json")
    answer = json.loads(body)
    assert [face["face_id"] for face in answer["faces"]] == [1, 5]
    assert answer["faces"][0]["crop_url"] == "/crop/1" and "crop_path" not in answer["faces"][0]
    assert answer["keys"] == {"f": "female", "m": "male", "o": "other"}
    assert (answer["counts"], answer["remaining"]) == ({"female": 1}, 5)
    crop = (catalogue.path / f"crops/p1/{SHA[:8]}_1.jpg").read_bytes()
    assert _request(server, "/crop/1") == (200, "image/jpeg", crop)
    assert _request(server, "/poster/1") == (200, "image/jpeg", (catalogue.path / POSTER_PATH).read_bytes())
    status, kind, body = _request(server, "/")
    assert (status, kind) == (200, "text/html") and b"<script>" in body


def test_server_never_serves_files_outside_the_home(server: LabellingServer, catalogue: Home, tmp_path: Path) -> None:
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(b"not for the browser")
    (catalogue.path / "crops" / "link.jpg").symlink_to(secret)
    with catalogue.engine.begin() as connection:
        connection.execute(update(schema.faces).where(schema.faces.c.id == 1).values(crop_path="../secret.jpg"))
        connection.execute(update(schema.faces).where(schema.faces.c.id == 2).values(crop_path="crops/link.jpg"))
        connection.execute(update(schema.faces).where(schema.faces.c.id == 3).values(crop_path=str(secret)))
    for path in ["/crop/1", "/crop/2", "/crop/3", "/crop/99", "/crop/../../secret.jpg", "/crop/%2e%2e%2fsecret.jpg",
                 "/poster/99", "/crop/-1"]:
        status, _, body = _request(server, path)
        assert status == 404, path
        assert b"not for the browser" not in body


def test_server_refuses_bad_requests(server: LabellingServer, catalogue: Home) -> None:
    assert _request(server, "/api/label", {"face_id": 3, "label": "woman"})[0] == 400
    assert _request(server, "/api/label", {"face_id": "3", "label": "male"})[0] == 400
    assert _request(server, "/api/label", {"face_id": 99, "label": "male"})[0] == 404
    assert _request(server, "/api/undo", {"face_id": 3, "restore": "woman"})[0] == 400
    assert _request(server, "/api/label", {"face_id": 3, "label": "male"}, {"Content-Type": "text/plain"})[0] == 415
    assert _request(server, "/api/queue", headers={"Host": "evil.example"})[0] == 403
    assert _request(server, "/api/queue?n=x")[0] == 400
    assert catalogue.labels() == {6: ("female", "seed study")}

    # labels are kept per coder: the page's coder labels face 6 beside the seed study, and its
    # relabel replaces only its own label
    status, _, body = _request(server, "/api/label", {"face_id": 6, "label": "male"})
    assert (status, json.loads(body)["previous"]) == (200, None)
    status, _, body = _request(server, "/api/label", {"face_id": 6, "label": "female"})
    assert (status, json.loads(body)["previous"]) == (200, "male")
    assert _request(server, "/api/undo", {"face_id": 6, "restore": None})[0] == 200
    assert catalogue.labels() == {6: ("female", "seed study")}


def test_keys_must_not_take_skip_or_undo(catalogue: Home) -> None:
    with pytest.raises(ValueError, match="skip"):
        LabellingServer(catalogue.engine, catalogue.path, keys={"s": "female", "m": "male"})


# -- the page ----------------------------------------------------------------------------------


@pytest.mark.browser  # drives chromium itself (`tests.support.browser.chromium_page`), not through the fixture
def test_labelling_page_in_chromium(server: LabellingServer, catalogue: Home) -> None:
    with chromium_page() as browser:
        page = browser.page
        page.goto(server.url)
        crop = page.locator("#crop")

        def shown() -> int:
            page.wait_for_selector('body[data-pending="0"]')
            return int(crop.get_attribute("data-face-id"))

        assert shown() == 3  # the most uncertain face first
        assert page.locator("#prediction").inner_text() == "male 0.53, margin 0.05"
        assert page.locator("#title").inner_text() == "Concert poster 1968"
        assert page.locator("#landing").get_attribute("href") == "https://example.org/items/1"
        page.wait_for_selector("#box:not([hidden])")
        assert page.evaluate("document.getElementById('poster').naturalWidth") == 600
        for key, then_shown in [("f", 1), ("m", 5), ("s", 2), ("o", 4), ("u", 2)]:
            page.keyboard.press(key)
            assert shown() == then_shown, key
        assert "female 2 · male 1 · other 0 · 3 to go" in page.locator("#counts").inner_text()
        assert page.locator("#history li").count() == 4
        assert page.locator("#history li.undone").inner_text() == "#2 other"
        assert browser.errors == []

        for _ in range(2):  # skip faces 2 and 4: nothing left to show
            page.keyboard.press("s")
        page.wait_for_selector('body[data-pending="0"]')
        assert page.locator("#done").inner_text().startswith("All faces labelled")
        assert browser.errors == []

    assert catalogue.labels() == {3: ("female", "labelling page"), 1: ("male", "labelling page"),
                                  6: ("female", "seed study")}
