"""A catalogue of posters with hand-placed face boxes and hand-chosen predictions, built with plain
inserts (no stage code), for the prominence and comparison tests.

The model's held-out faces: 100 true female (80 decided female, 20 male), 100 true male (10 female,
90 male), enough for intervals narrower than [0, 1] on a hundred faces, so at argmax tpr = 0.8, fpr = 0.1 and the
corrected female share of a raw (or weighted) female proportion q is (q − 0.1) / 0.7.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from postercensus.catalog import schema
from postercensus.catalog.database import default_url, open_engine
from postercensus.faces.settings import FaceSettings

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
MODEL = "test-model"
HELD_OUT = ([("female", [0.9, 0.1])] * 80 + [("female", [0.2, 0.8])] * 20
            + [("male", [0.7, 0.3])] * 10 + [("male", [0.1, 0.9])] * 90)
CARD = {
    "labels": ["female", "male"],
    "evaluation": {"n": 200, "accuracy": 0.85, "balanced_accuracy": 0.85,
                   "confusion": {"labels": ["female", "male"], "matrix": [[80, 20], [10, 90]]}},
    "held_out_predictions": {"true": [t for t, _ in HELD_OUT], "probabilities": [p for _, p in HELD_OUT]},
    "backbone": {"name": "test"},
}
TPR, FPR = 0.8, 0.1


@dataclass(frozen=True)
class Face:
    box: tuple[int, int, int, int]  # left, top, right, bottom in the upright image's pixels
    label: str  # the model's top label (probability 0.9)


@dataclass(frozen=True)
class Poster:
    year: int
    keywords: tuple[str, ...]
    size: tuple[int, int] | None  # the upright image's (width, height); None: the scan stored none
    faces: tuple[Face, ...]
    source: str = "test"


def build(home: Path, posters: list[Poster]) -> Path:
    """The posters as items 1…n of `home`'s catalogue, one image each, every face predicted by MODEL."""
    home.mkdir(parents=True, exist_ok=True)
    engine = open_engine(default_url(home))
    settings = FaceSettings()
    sources = sorted({poster.source for poster in posters})
    with engine.begin() as c:
        for source_id, key in enumerate(sources, start=1):
            c.execute(schema.sources.insert().values(id=source_id, key=key, kind="csv", location=f"/data/{key}.csv",
                                                     params={}, created_at=T0))
        for run_id, stage, parameters in ((1, "harvest.csv", {}), (2, "faces", {"parameter_hash": "set1"}),
                                          (3, "classify", {"model_id": MODEL, "threshold": 0.0})):
            c.execute(schema.runs.insert().values(id=run_id, stage=stage, parameters=parameters, versions={},
                                                  started_at=T0, finished_at=T0, status="ok", counts={}))
        c.execute(schema.face_sets.insert().values(parameter_hash="set1", detector=settings.detector,
                                                   parameters=settings.parameters(), model_versions={},
                                                   created_at=T0))
        c.execute(schema.classifier_models.insert().values(
            model_id=MODEL, model_version="v1", backbone="test", labels=CARD["labels"], card=CARD,
            location="/models/test", registered_at=T0))
        face_id = 0
        for item_id, poster in enumerate(posters, start=1):
            sha = f"img{item_id}"
            c.execute(schema.items.insert().values(
                id=item_id, source_id=sources.index(poster.source) + 1, source_item_id=f"poster{item_id}",
                title=f"Poster {item_id}", date=f"{poster.year}-05-01", year=poster.year,
                keywords=list(poster.keywords), landing_url=f"https://example.org/{item_id}", deleted=False,
                content_hash="x", raw={}, updated_at=T0))
            c.execute(schema.images.insert().values(item_id=item_id, position=0, origin=f"https://example.org/{sha}",
                                                    sha256=sha, path=f"images/{sha}.jpg", status="ok", attempts=1))
            width, height = poster.size or (None, None)
            c.execute(schema.face_scans.insert().values(image_sha256=sha, parameter_hash="set1", run_id=2,
                                                        status="ok", width=width, height=height,
                                                        face_count=len(poster.faces), scanned_at=T0))
            for index, face in enumerate(poster.faces):
                face_id += 1
                left, top, right, bottom = face.box
                c.execute(schema.faces.insert().values(
                    id=face_id, image_sha256=sha, parameter_hash="set1", face_index=index, left=left, top=top,
                    right=right, bottom=bottom, score=1.0, detectors=[], landmarks5=[], landmarks68=[],
                    embedding=[], crop_path=f"faces/{face_id}.jpg", run_id=2))
                other = "male" if face.label == "female" else "female"
                c.execute(schema.predictions.insert().values(
                    face_id=face_id, model_id=MODEL, model_version="v1", label=face.label, top_label=face.label,
                    probability=0.9, margin=0.8, probabilities={face.label: 0.9, other: 0.1}, threshold=0.0,
                    run_id=3, predicted_at=T0))
    engine.dispose()
    return home
