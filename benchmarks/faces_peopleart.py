"""Which face-detector settings find the most People-Art persons, against the seed pipeline.

Runs the seed study's pipeline, then each setting in SETTINGS, over every People-Art image in
person_train.txt + person_val.txt, one image after another in this process (so seconds per image
are per-image costs, not pool throughput), detection only. The scores are the proxies of
benchmarks/peopleart.py: a Frontal person is hit when a face centre lies in the upper half of its
box; a detection is plausible when its centre lies in any person box.

    python benchmarks/faces_peopleart.py [--only LABEL,...] [--limit N]
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_support import print_table, progress, ratio, require_data, timed  # noqa: E402
from peopleart import DATA as PEOPLEART, ArtImage, Score, load_images  # noqa: E402

from faces.settings import FaceSettings  # noqa: E402

SEED_LABEL = "seed"
# label → settings; -uN upsample, -tX HOG threshold, -rF pre-resize, -vN ensemble min_votes.
SETTINGS: dict[str, FaceSettings] = {
    "hog-u0": FaceSettings(detector="hog", upsample=0, threshold=0.0),
    "hog-u1": FaceSettings(detector="hog", upsample=1, threshold=0.0),
    "hog-u2": FaceSettings(detector="hog", upsample=2, threshold=0.0),
    "hog-u1-t-0.3": FaceSettings(detector="hog", upsample=1, threshold=-0.3),
    "hog-u1-t-0.5": FaceSettings(detector="hog", upsample=1, threshold=-0.5),
    "hog-u1-r1.25": FaceSettings(detector="hog", upsample=1, resize=1.25, threshold=0.0),
    "cnn-u0": FaceSettings(detector="cnn", upsample=0),
    "haar": FaceSettings(detector="haar"),
    "hog+haar-v1": FaceSettings(detector="ensemble", members=("hog", "haar"), threshold=0.0, min_votes=1),
    "hog+haar-t-0.3-v2": FaceSettings(detector="ensemble", members=("hog", "haar"), threshold=-0.3, min_votes=2),
    "hog+haar-t-0.4-v2": FaceSettings(detector="ensemble", members=("hog", "haar"), threshold=-0.4, min_votes=2),
    "hog+haar-t-0.5-v2": FaceSettings(detector="ensemble", members=("hog", "haar"), threshold=-0.5, min_votes=2),
    "hog+haar-t-0.7-v2": FaceSettings(detector="ensemble", members=("hog", "haar"), threshold=-0.7, min_votes=2),
    "hog+cnn-v1": FaceSettings(detector="ensemble", members=("hog", "cnn"), threshold=0.0, min_votes=1),
    "default": FaceSettings(),  # = hog+haar-t-0.6-v2
}
Centres = list[tuple[float, float]]


def seed_centres() -> Callable[[ArtImage], Centres]:
    """The seed pipeline's face centres (its boxes are already in original pixels)."""
    from seed_pipeline import SeedPipeline

    pipeline = SeedPipeline()
    return lambda image: [
        ((face.left + face.right) / 2, (face.top + face.bottom) / 2) for face in pipeline.run(image.path)
    ]


def setting_centres(settings: FaceSettings) -> Callable[[ArtImage], Centres]:
    """postercensus' detection-only path, as `faces scan` runs it."""
    from faces.pipeline import process_image

    return lambda image: [
        face.box.centre for face in process_image(image.path.read_bytes(), settings, describe=False).faces
    ]


def evaluate(label: str, centres_of: Callable[[ArtImage], Centres], images: list[ArtImage]) -> tuple[Score, float]:
    """Score one detector over all images; returns the score and seconds per image.

    The first image is detected once untimed so model loading is not charged to the setting.
    """
    centres_of(images[0])
    score = Score()
    with timed() as watch:
        for index, image in enumerate(images, 1):
            score.add(image, centres_of(image))
            if index % 50 == 0:
                progress(f"  {label}: {index}/{len(images)} images")
    return score, watch.seconds / len(images)


def row(label: str, score: Score, seconds: float, seed: Score | None) -> list[object]:
    return [
        label,
        f"{score.hit_rate:.1%}",
        f"{score.persons_hit}/{score.frontal_persons}",
        f"{score.precision:.1%}",
        f"{score.plausible}/{score.detections}",
        ratio(score.persons_hit, seed.persons_hit) if seed else "1.00×",
        f"{seconds:.3f}",
    ]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only", default="",
        help=f"comma-separated labels to run (the seed always runs); choose from: {', '.join(SETTINGS)}",
    )
    parser.add_argument("--limit", type=int, default=0, help="use only the first N images (0: all)")
    return parser.parse_args()


def chosen_settings(only: str) -> dict[str, FaceSettings]:
    if not only:
        return SETTINGS
    labels = [label.strip() for label in only.split(",") if label.strip()]
    unknown = [label for label in labels if label not in SETTINGS]
    if unknown:
        sys.exit(f"unknown setting(s): {', '.join(unknown)}; choose from: {', '.join(SETTINGS)}")
    return {label: SETTINGS[label] for label in labels}


def main() -> None:
    args = parse_args()
    settings = chosen_settings(args.only)
    require_data(PEOPLEART)
    images = load_images()
    if args.limit:
        images = images[: args.limit]
    progress(f"{len(images)} People-Art images, {len(settings)} settings + the seed pipeline")

    progress(SEED_LABEL)
    seed, seed_seconds = evaluate(SEED_LABEL, seed_centres(), images)
    rows = [row(SEED_LABEL, seed, seed_seconds, None)]
    for label, setting in settings.items():
        progress(label)
        score, seconds = evaluate(label, setting_centres(setting), images)
        rows.append(row(label, score, seconds, seed))

    print_table(
        ["setting", "person-hit rate", "hits/frontal", "precision proxy", "plausible/detections",
         "hits vs seed", "s/image"],
        rows,
        title=f"People-Art face detection: {len(images)} images, detection only, 1 process",
    )


if __name__ == "__main__":
    main()
