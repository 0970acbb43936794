"""Posters per minute: the seed study's pipeline against postercensus' default face stage.

The seed runs exactly as in the study (benchmarks/seed_pipeline.py: 2.5× enlargement, HOG,
68-point alignment, one process). postercensus runs FaceSettings() through make_executor(None,
None) — every core — with the full description (landmarks, aligned crop, embedding), so it does
more work per face than the seed. Each is timed twice on the same images:

* including start-up: from creating the pipeline / process pool (and loading models) to the
  last result — what a short one-off run costs;
* warm: after a warm-up pass over a few images — the steady rate a long run approaches.

    python benchmarks/faces_seed_baseline.py [--set wpa|peopleart|both] [--repeat N] [--warmup N]
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_support import DATA, cpu_count, per_minute, print_table, progress, ratio, require_data, timed  # noqa: E402
from peopleart import DATA as PEOPLEART, load_images  # noqa: E402

WPA_IMAGES = DATA / "wpa-posters" / "images"
TARGET_RATIO = 3.0


@dataclass
class Timing:
    images: int
    faces: int
    cold_seconds: float
    warm_seconds: float

    @property
    def cold_rate(self) -> float:
        return per_minute(self.images, self.cold_seconds)

    @property
    def warm_rate(self) -> float:
        return per_minute(self.images, self.warm_seconds)


def image_set(name: str, repeat: int) -> list[Path]:
    if name == "wpa":
        return sorted(WPA_IMAGES.glob("*.jpg")) * repeat
    return [image.path for image in load_images()]


class SeedRunner:
    """The seed pipeline, one image after another in this process."""

    label = "seed (1 process)"

    def __init__(self) -> None:
        from seed_pipeline import SeedPipeline

        self.pipeline = SeedPipeline()

    def process(self, paths: list[Path]) -> int:
        return sum(len(self.pipeline.run(path)) for path in paths)

    def close(self) -> None:
        pass


class PostercensusRunner:
    """FaceSettings() with full description, on make_executor(None, None): a pool on every core."""

    def __init__(self) -> None:
        from faces.executors import make_executor
        from faces.settings import FaceSettings

        self.settings = FaceSettings()
        self.executor = make_executor(None, None)
        self.label = f"postercensus default ({self.executor.description})"

    def process(self, paths: list[Path]) -> int:
        jobs = ((index, path.read_bytes()) for index, path in enumerate(paths))
        results = [faces for _, faces in self.executor.run(jobs, self.settings)]
        errors = [faces.error for faces in results if faces.error]
        if errors:
            progress(f"  {len(errors)} images failed, e.g. {errors[0]}")
        return sum(len(faces.faces) for faces in results)

    def close(self) -> None:
        self.executor.close()


Runner = SeedRunner | PostercensusRunner


def measure(make: Callable[[], Runner], paths: list[Path], warmup: int) -> tuple[str, Timing]:
    """Cold and warm timings of one pipeline, each on a fresh instance.

    Cold times creating the pipeline (pool start-up, model loading) through the last result;
    warm times the same images after an untimed warm-up pass over the first `warmup`.
    """
    with timed() as cold:
        runner = make()
        runner.process(paths)
    runner.close()
    progress(f"  {runner.label}: including start-up {cold.seconds:.1f} s")
    runner = make()
    runner.process(paths[:warmup])
    with timed() as warm:
        faces = runner.process(paths)
    runner.close()
    progress(f"  {runner.label}: warm {warm.seconds:.1f} s")
    return runner.label, Timing(len(paths), faces, cold.seconds, warm.seconds)


def compare(name: str, paths: list[Path], warmup: int) -> tuple[list[list[object]], str]:
    """Table rows for one image set (the seed, postercensus, their ratio) and its target verdict."""
    progress(f"{name}: {len(paths)} images")
    seed_label, seed = measure(SeedRunner, paths, warmup)
    ours_label, ours = measure(PostercensusRunner, paths, warmup)
    rows = [
        [name, label, timing.images, timing.faces, f"{timing.cold_rate:.1f}", f"{timing.warm_rate:.1f}"]
        for label, timing in ((seed_label, seed), (ours_label, ours))
    ]
    rows.append([name, "ratio postercensus / seed", "", "",
                 ratio(ours.cold_rate, seed.cold_rate), ratio(ours.warm_rate, seed.warm_rate)])
    verdicts = [
        f"{kind} {'met' if ours_rate / seed_rate >= TARGET_RATIO else 'NOT met'}"
        for kind, ours_rate, seed_rate in (
            ("including start-up", ours.cold_rate, seed.cold_rate), ("warm", ours.warm_rate, seed.warm_rate)
        )
    ]
    return rows, f"{name}: {', '.join(verdicts)}"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=("wpa", "peopleart", "both"), default="both", help="image set (default: both)")
    parser.add_argument(
        "--repeat", type=int, default=7,
        help="repeat the 7 WPA posters N times so their timing is stable (default 7: 49 posters)",
    )
    parser.add_argument("--warmup", type=int, default=4, help="untimed images before the warm pass (default 4)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    names = ["wpa", "peopleart"] if args.set == "both" else [args.set]
    require_data(*[WPA_IMAGES if name == "wpa" else PEOPLEART for name in names])
    rows: list[list[object]] = []
    verdicts = []
    for name in names:
        set_rows, verdict = compare(name, image_set(name, args.repeat), args.warmup)
        rows += set_rows
        verdicts.append(verdict)
    print_table(
        ["set", "pipeline", "images", "faces", "posters/min incl. start-up", "posters/min warm"],
        rows,
        title=f"Seed pipeline vs postercensus default face stage (detect + describe), {cpu_count()} CPU cores",
    )
    print(f"target postercensus / seed ≥ {TARGET_RATIO:.0f}×: " + "; ".join(verdicts))


if __name__ == "__main__":
    main()
