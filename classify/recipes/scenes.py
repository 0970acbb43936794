"""Faces in scene paintings (../shared/data/painting-faces) cut as the face stage would see them.

The 636 hand-drawn boxes carry a perceived-gender label each, but a hand box is not what the face
stage hands the classifier: the stage detects faces with its default detector and aligns the crop
from the detector's own box and points. So each painting is run through the stage
(`process_image` with `stage_face_settings()`), the detected faces are matched one-to-one to the
hand boxes (IoU ≥ 0.3 on the stage's stored, enlarged box; the highest IoU pairs first), and a
matched hand box takes the detected face's descriptor and aligned crop. Only a hand box that no
detection matches is described from the hand box itself (the stage's alignment from landmarks
fitted in that box); how many did is reported, since those crops are framed unlike any stage crop.
"""
from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from postercensus.classify.models.facesamples import FaceSample, face_sample, stage_face_settings
from postercensus.classify.recipes.paintings import MATCH_IOU, PAINTINGS, iou, painter_of
from postercensus.faces.boxes import Box
from postercensus.faces.imageload import load_rgb
from postercensus.faces.pipeline import describe_face, process_image
from postercensus.faces.settings import FaceSettings

HAND_BOX = "hand box"

LabelledBox = tuple[tuple[float, float, float, float], str]  # (left, top, right, bottom), label


@dataclass
class SceneFace:
    file: str
    painter: str
    label: str
    matched: bool  # True: the stage's detected face; False: described from the hand box
    sample: FaceSample


def labelled_boxes(root: Path = PAINTINGS) -> dict[str, list[LabelledBox]]:
    """file name → its hand boxes with their labels, in boxes.csv order."""
    boxes: dict[str, list[LabelledBox]] = defaultdict(list)
    with (root / "boxes.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            box = tuple(float(row[k]) for k in ("left", "top", "right", "bottom"))
            boxes[row["file"]].append((box, row["gender"]))  # type: ignore[arg-type]
    return boxes


def match_boxes(detected: list[tuple[float, float, float, float]],
                hand: list[tuple[float, float, float, float]]) -> dict[int, int]:
    """hand index → detected index, one-to-one, the pair with the highest IoU first, IoU ≥ MATCH_IOU."""
    pairs = sorted(((iou(d, h), i, j) for j, d in enumerate(detected) for i, h in enumerate(hand)), reverse=True)
    matched: dict[int, int] = {}
    used: set[int] = set()
    for overlap, i, j in pairs:
        if overlap < MATCH_IOU:
            break
        if i not in matched and j not in used:
            matched[i] = j
            used.add(j)
    return matched


def scene_faces_of(path: Path, boxes: list[LabelledBox], settings: FaceSettings) -> list[SceneFace]:
    """One painting's labelled faces: each hand box's matched detected face, or the hand box described."""
    data = path.read_bytes()
    result = process_image(data, settings)
    if result.error:
        raise ValueError(f"{path.name}: {result.error}")
    detected = [(f.box.left, f.box.top, f.box.right, f.box.bottom) for f in result.faces]
    matched = match_boxes(detected, [box for box, _ in boxes])
    rgb = None
    faces = []
    for i, (box, label) in enumerate(boxes):
        if i in matched:
            sample = face_sample(result.faces[matched[i]])
        else:
            rgb = load_rgb(data, settings.max_pixels) if rgb is None else rgb
            left, top, right, bottom = (int(round(v)) for v in box)
            hand = Box(max(left, 0), max(top, 0), min(right, rgb.shape[1]), min(bottom, rgb.shape[0]), 0.0, (HAND_BOX,))
            sample = face_sample(describe_face(rgb, hand, settings))
        faces.append(SceneFace(path.name, painter_of(path.name), label, i in matched, sample))
    return faces


def scene_faces(root: Path = PAINTINGS, settings: FaceSettings | None = None, progress=print) -> list[SceneFace]:
    """Every hand-boxed face of the set, in file-name order then boxes.csv order."""
    settings = settings or stage_face_settings()
    faces: list[SceneFace] = []
    boxes = labelled_boxes(root)
    for done, name in enumerate(sorted(boxes), 1):
        faces.extend(scene_faces_of(root / "images" / name, boxes[name], settings))
        if done % 50 == 0:
            progress(f"  {done}/{len(boxes)} paintings")
    return faces
