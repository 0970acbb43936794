"""The demo's check of the tool: each labelled face set beside the figure drawn in that place.

Only the demo knows the truth about its pictures, so only the demo can show a new user, on
the spot, how often the face stage misses a figure and how often the classifier mislabels one
on drawn posters (where classifiers err most), instead of asking them to take it on trust.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import Engine, select

from postercensus.catalog.schema import faces, images, items, predictions
from postercensus.demo.collection import DemoPoster

MISSED = "not found"


@dataclass(frozen=True)
class DrawnAgainstLabelled:
    """Counts of (gender drawn, label given); a drawn figure with no face found counts as MISSED."""

    counts: Counter[tuple[str, str]]
    unmatched_faces: int  # faces found where nothing was drawn (false detections)

    def drawn(self, gender: str) -> int:
        return sum(count for (drawn, _), count in self.counts.items() if drawn == gender)


def drawn_against_labelled(engine: Engine, posters: list[DemoPoster], parameter_hash: str,
                           model_id: str) -> DrawnAgainstLabelled:
    """Match every face of the face set `parameter_hash` labelled by `model_id` to its poster's figures."""
    by_id = {poster.item_id: poster for poster in posters}
    query = (
        select(items.c.source_item_id, faces.c.left, faces.c.right, predictions.c.label)
        .select_from(predictions.join(faces, faces.c.id == predictions.c.face_id)
                     .join(images, images.c.sha256 == faces.c.image_sha256)
                     .join(items, items.c.id == images.c.item_id))
        .where(faces.c.parameter_hash == parameter_hash, predictions.c.model_id == model_id)
    )
    counts: Counter[tuple[str, str]] = Counter()
    found: Counter[str] = Counter()
    unmatched = 0
    with engine.connect() as connection:
        for item_id, left, right, label in connection.execute(query):
            poster = by_id.get(item_id)
            drawn = poster.figure_at((left + right) / 2) if poster else None
            if drawn is None:
                unmatched += 1
                continue
            counts[(drawn, label)] += 1
            found[drawn] += 1
    for gender in {gender for poster in posters for gender in poster.genders}:
        drawn_total = sum(poster.genders.count(gender) for poster in posters)
        if drawn_total > found[gender]:
            counts[(gender, MISSED)] = drawn_total - found[gender]
    return DrawnAgainstLabelled(counts, unmatched)
