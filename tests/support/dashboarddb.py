"""A small, fully known catalogue for the dashboard tests: items, images, faces, predictions, mentions.

Rows are inserted by hand (no stage runs) so the tests take a second and every count is known:
five posters 1940–1945 with a gap year (1942), face boxes in real image files under
<home>/images, one registered model with a held-out set, and one text version.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from PIL import Image, ImageDraw
from sqlalchemy import Engine, insert

from postercensus.catalog import schema
from postercensus.catalog.database import default_url, open_engine
from postercensus.faces.settings import DEFAULT_SETTINGS
from postercensus.text.settings import TextSettings

MODEL_ID = "test-model"
FACE_SET = "faceset000000001"
TEXT_VERSION = "text-version-1"
IMAGE_SIZE = (200, 300)


@dataclass(frozen=True)
class Poster:
    year: int | None
    keywords: tuple[str, ...]
    faces: tuple[tuple[str, float], ...]  # (label, probability) per face
    mentions: tuple[tuple[str, str], ...] = ()  # (gender, role_lemma)


POSTERS = (
    Poster(1940, ("war", "industry"), (("female", 0.95), ("male", 0.9)), (("female", "worker"),)),
    Poster(1941, ("war",), (("female", 0.8),), (("female", "nurse"),)),
    Poster(1943, ("industry",), (("male", 0.97), ("male", 0.55)), (("male", "soldier"),)),
    Poster(1945, ("food",), (("female", 0.9),), (("male", "farmer"),)),
    Poster(1945, ("food",), ()),
)


def _card() -> dict:
    """A card with a held-out set the corrected shares are computed from (18 of 20 right)."""
    true = ["female"] * 10 + ["male"] * 10
    probabilities = [[0.9, 0.1]] * 9 + [[0.3, 0.7]] + [[0.2, 0.8]] * 9 + [[0.6, 0.4]]
    return {"model_id": MODEL_ID, "labels": ["female", "male"],
            "evaluation": {"n": 20, "accuracy": 0.9, "balanced_accuracy": 0.9, "threshold": 0.0},
            "evaluation_note": "hand-made held-out set of the test fixture",
            "held_out_predictions": {"true": true, "probabilities": probabilities}}


def _poster_image(path: Path, faces: int) -> list[tuple[int, int, int, int]]:
    """Save a poster image with `faces` drawn ovals; returns their boxes."""
    image = Image.new("RGB", IMAGE_SIZE, (235, 225, 200))
    draw = ImageDraw.Draw(image)
    boxes = [(20 + 90 * index, 40, 80 + 90 * index, 110) for index in range(faces)]
    for box in boxes:
        draw.ellipse(box, fill=(200, 160, 130))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return boxes


def build_catalogue(home: Path, scanned: bool = True) -> Engine:
    """Create `home` with a migrated SQLite catalogue holding POSTERS; returns its engine.

    scanned=False stores the same images but no face scan, face or prediction (the faces stage
    has not reached them yet): every poster's face status is then not_scanned.
    """
    home.mkdir(parents=True, exist_ok=True)
    engine = open_engine(default_url(home))
    now = datetime(2024, 1, 1, tzinfo=timezone.utc)
    with engine.begin() as db:
        source = db.execute(insert(schema.sources).values(key="test-source", kind="folder", location="/posters",
                                                          params={}, created_at=now)).inserted_primary_key[0]

        def run(stage: str, parameters: dict) -> int:
            return db.execute(insert(schema.runs).values(stage=stage, source_id=source, parameters=parameters,
                                                         versions={}, started_at=now, finished_at=now,
                                                         status="ok")).inserted_primary_key[0]

        harvest, faces_run = run("harvest", {}), run("faces", {"parameter_hash": FACE_SET})
        classify_run = run("classify", {})
        text_run = run("text", {**TextSettings().to_config(), "version_hash": TEXT_VERSION})  # the active [text]
        db.execute(insert(schema.face_sets).values(parameter_hash=FACE_SET, detector=DEFAULT_SETTINGS.detector,
                                                   parameters=DEFAULT_SETTINGS.parameters(),  # the active [faces]
                                                   model_versions={}, created_at=now))
        db.execute(insert(schema.classifier_models).values(model_id=MODEL_ID, model_version="v1", backbone="dlib",
                                                           labels=["female", "male"], card=_card(),
                                                           location="/models/test", registered_at=now))
        for number, poster in enumerate(POSTERS, start=1):
            item = db.execute(insert(schema.items).values(
                source_id=source, source_item_id=f"poster{number}", title=f"Poster {number}",
                year=poster.year, date=str(poster.year), keywords=list(poster.keywords),
                source_keywords=list(poster.keywords), landing_url=f"https://example.org/poster{number}",
                content_hash=f"{number:064d}", raw={}, first_run_id=harvest, updated_at=now,
                description="")).inserted_primary_key[0]
            sha = f"{number:02d}" * 32
            relative = f"images/{sha[:2]}/{sha}.png"
            drawn = _poster_image(home / relative, len(poster.faces))
            boxes = drawn if scanned else []  # not scanned: no scan row, so no face rows
            db.execute(insert(schema.images).values(item_id=item, position=0, origin=f"/posters/{number}.png",
                                                    sha256=sha, path=relative, format="png", width=IMAGE_SIZE[0],
                                                    height=IMAGE_SIZE[1], status="ok", attempts=1))
            if scanned:
                db.execute(insert(schema.face_scans).values(image_sha256=sha, parameter_hash=FACE_SET,
                                                            run_id=faces_run, status="ok", face_count=len(boxes),
                                                            scanned_at=now))
            for index, ((label, probability), box) in enumerate(zip(poster.faces, boxes)):
                face = db.execute(insert(schema.faces).values(
                    image_sha256=sha, parameter_hash=FACE_SET, face_index=index, left=box[0], top=box[1],
                    right=box[2], bottom=box[3], score=1.0, detectors=["hog"], landmarks5=[], landmarks68=[],
                    embedding=[], crop_path="", run_id=faces_run)).inserted_primary_key[0]
                other = "male" if label == "female" else "female"
                db.execute(insert(schema.predictions).values(
                    face_id=face, model_id=MODEL_ID, model_version="v1", label=label, top_label=label,
                    probability=probability, margin=2 * probability - 1,
                    probabilities={label: probability, other: 1 - probability}, threshold=0.0,
                    run_id=classify_run, predicted_at=now))
            for start, (gender, role) in enumerate(poster.mentions):
                db.execute(insert(schema.mentions).values(
                    item_id=item, text_hash="0" * 64, version_hash=TEXT_VERSION, gender=gender, trigger=gender,
                    role=role, role_lemma=role, category="work", start=start, end=start + 1,
                    sentence=f"a {gender} {role}", in_title=False, run_id=text_run))
            db.execute(insert(schema.text_scans).values(item_id=item, version_hash=TEXT_VERSION, text_hash="0" * 64,
                                                        run_id=text_run, mention_count=len(poster.mentions),
                                                        scanned_at=now))
    return engine
