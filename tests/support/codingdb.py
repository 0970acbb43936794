"""A small generated catalogue for the validation-sample and coding tests.

`items` posters (one face set "p1", `faces_per_item` faces each, years spread over three decades),
crops on disk, and one model's predictions: faces with an even id predicted female, odd male
(face 1 'uncertain'), so strata and the page's hidden predictions are known in advance.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import Engine, insert

from postercensus.catalog import schema
from postercensus.catalog.database import default_url, open_engine
from postercensus.catalog.runs import start_run
from postercensus.faces.settings import DEFAULT_SETTINGS

FACE_SET = "p1"
MODEL = ("gender", "v1")
YEARS = (1955, 1968, 1972)


def predicted(face_id: int) -> str:
    """The stored prediction of a face (its `label` column)."""
    return "uncertain" if face_id == 1 else ("female" if face_id % 2 == 0 else "male")


def build(home: Path, items: int = 10, faces_per_item: int = 4) -> Engine:
    home.mkdir(parents=True, exist_ok=True)
    engine = open_engine(default_url(home))
    now = datetime.now(timezone.utc)
    run_id = start_run(engine, "faces", {})
    crop = "crops/p1/face.jpg"
    (home / "crops/p1").mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((32, 32, 3), 128, np.uint8)).save(home / crop)
    face_id = 0
    with engine.begin() as connection:
        source_id = connection.execute(insert(schema.sources).values(
            key="folder:/posters", kind="folder", location="/posters", params={}, created_at=now,
        )).inserted_primary_key[0]
        connection.execute(insert(schema.face_sets).values(
            parameter_hash=FACE_SET, detector=DEFAULT_SETTINGS.detector, parameters=DEFAULT_SETTINGS.parameters(),
            model_versions={}, created_at=now))  # the active [faces] settings
        connection.execute(insert(schema.classifier_models).values(
            model_id=MODEL[0], model_version=MODEL[1], backbone="dlib", labels=["female", "male"],
            card={"model_id": MODEL[0], "labels": ["female", "male"]},
            location="models/gender", registered_at=now))
        for n in range(items):
            sha = f"{n:064x}"
            item_id = connection.execute(insert(schema.items).values(
                source_id=source_id, source_item_id=f"poster{n}", title=f"Poster {n}", keywords=[],
                year=YEARS[n % len(YEARS)], content_hash=sha, raw={}, updated_at=now, deleted=False,
            )).inserted_primary_key[0]
            connection.execute(insert(schema.images).values(
                item_id=item_id, position=0, origin=f"/posters/{n}.jpg", sha256=sha, path=crop, status="ok",
                attempts=1))
            for index in range(faces_per_item):
                face_id += 1
                connection.execute(insert(schema.faces).values(
                    id=face_id, image_sha256=sha, parameter_hash=FACE_SET, face_index=index, left=1, top=1,
                    right=20, bottom=20, score=1.0, detectors=["hog"], landmarks5=[], landmarks68=[],
                    embedding=[float(face_id)] * 4, crop_path=crop, run_id=run_id))
                label = predicted(face_id)
                connection.execute(insert(schema.predictions).values(
                    face_id=face_id, model_id=MODEL[0], model_version=MODEL[1], label=label,
                    top_label="female" if label == "uncertain" else label, probability=0.8, margin=0.6,
                    probabilities={"female": 0.8, "male": 0.2}, threshold=0.0, run_id=run_id, predicted_at=now))
    return engine
