"""The face stage's reads and writes in the catalogue (face_sets, face_scans, faces).

Each image's faces and its scan row are written in one transaction, so a killed run leaves an
image either fully recorded or not at all: the next run picks it up again, nothing doubles.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, and_, exists, func, insert, select

from postercensus.catalog import schema
from postercensus.catalog.runs import utcnow
from postercensus.catalog.schema import FaceScanStatus, ImageStatus
from postercensus.faces.pipeline import ImageFaces
from postercensus.faces.settings import FaceSettings


@dataclass(frozen=True)
class StoredImageRef:
    sha256: str
    path: str  # relative to the home


class FaceStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def ensure_set(self, settings: FaceSettings) -> str:
        """Register the result set these settings produce; returns its parameter hash."""
        parameter_hash = settings.identity()
        with self.engine.begin() as connection:
            known = connection.execute(
                select(schema.face_sets.c.parameter_hash).where(schema.face_sets.c.parameter_hash == parameter_hash)
            ).first()
            if known is None:
                connection.execute(schema.face_sets.insert().values(
                    parameter_hash=parameter_hash, detector=settings.detector, parameters=settings.parameters(),
                    model_versions=settings.model_versions(), created_at=utcnow(),
                ))
        return parameter_hash

    def count_pending(self, parameter_hash: str) -> int:
        with self.engine.connect() as connection:
            return connection.execute(
                select(func.count(func.distinct(schema.images.c.sha256))).where(self._pending(parameter_hash))
            ).scalar() or 0

    @staticmethod
    def _pending(parameter_hash: str):
        images, scans = schema.images, schema.face_scans
        return and_(
            images.c.status == ImageStatus.OK,
            images.c.sha256.is_not(None),
            ~exists().where(and_(scans.c.image_sha256 == images.c.sha256, scans.c.parameter_hash == parameter_hash)),
        )

    def pending_images(self, parameter_hash: str, page_size: int = 500) -> Iterator[StoredImageRef]:
        """Stored images not yet scanned with this set, one page at a time (never the whole list)."""
        images = schema.images
        after = ""
        while True:
            with self.engine.connect() as connection:
                rows = connection.execute(
                    select(images.c.sha256, func.min(images.c.path))
                    .where(self._pending(parameter_hash), images.c.sha256 > after)
                    .group_by(images.c.sha256)
                    .order_by(images.c.sha256)
                    .limit(page_size)
                ).all()
            if not rows:
                return
            for sha256, path in rows:
                yield StoredImageRef(sha256, path)
            after = rows[-1][0]

    def record(self, image: StoredImageRef, parameter_hash: str, run_id: int, result: ImageFaces,
               crop_paths: list[str]) -> None:
        """Store one image's scan and faces atomically."""
        now = utcnow()
        with self.engine.begin() as connection:
            connection.execute(schema.face_scans.insert().values(
                image_sha256=image.sha256, parameter_hash=parameter_hash, run_id=run_id,
                status=FaceScanStatus.FAILED if result.error else FaceScanStatus.OK, error=result.error,
                width=result.width or None, height=result.height or None, face_count=len(result.faces),
                scanned_at=now,
            ))
            if result.faces:
                connection.execute(insert(schema.faces), [
                    _face_row(image.sha256, parameter_hash, run_id, index, face, crop_path)
                    for index, (face, crop_path) in enumerate(zip(result.faces, crop_paths))
                ])

    def summary(self) -> list[dict[str, Any]]:
        """Per result set: detector, parameters, images scanned/failed and faces found."""
        sets, scans, faces = schema.face_sets, schema.face_scans, schema.faces
        with self.engine.connect() as connection:
            scanned = dict(connection.execute(
                select(scans.c.parameter_hash, func.count()).group_by(scans.c.parameter_hash)).all())
            failed = dict(connection.execute(
                select(scans.c.parameter_hash, func.count())
                .where(scans.c.status == FaceScanStatus.FAILED).group_by(scans.c.parameter_hash)).all())
            found = dict(connection.execute(
                select(faces.c.parameter_hash, func.count()).group_by(faces.c.parameter_hash)).all())
            rows = connection.execute(select(sets).order_by(sets.c.created_at)).mappings().all()
        return [
            {
                "parameter_hash": row["parameter_hash"], "detector": row["detector"],
                "parameters": row["parameters"], "images_scanned": scanned.get(row["parameter_hash"], 0),
                "images_failed": failed.get(row["parameter_hash"], 0), "faces": found.get(row["parameter_hash"], 0),
            }
            for row in rows
        ]


def _face_row(sha256: str, parameter_hash: str, run_id: int, index: int, face, crop_path: str) -> dict[str, Any]:
    box = face.box
    return {
        "image_sha256": sha256, "parameter_hash": parameter_hash, "face_index": index,
        "left": box.left, "top": box.top, "right": box.right, "bottom": box.bottom, "score": box.score,
        "detectors": list(box.detectors), "landmarks5": face.landmarks5, "landmarks68": face.landmarks68,
        "embedding": face.embedding, "crop_path": crop_path, "run_id": run_id, "aligned_by": face.aligned_by,
        "detector_landmarks": None if box.landmarks is None else [[round(x, 1), round(y, 1)] for x, y in box.landmarks],
    }
