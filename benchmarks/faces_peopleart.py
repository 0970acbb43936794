"""Which face-detector setting finds the most People-Art persons, chosen by leave-one-style-out cross-validation.

Runs the seed study's pipeline, then every setting in benchmarks/face_candidates.py, over every
People-Art image in person_train.txt + person_val.txt, one image after another in this process
(seconds per image are per-image costs, measured on whatever else the machine was doing),
detection only. The scores are the proxies of benchmarks/peopleart.py: a Frontal person is hit
when a face centre lies in the upper half of its box; a detection is plausible when its centre
lies in any person box.

The table of every setting is in-sample (each setting scored on all images, so the best row
flatters, as the old default's 1.25× did). The honest figure holds out one of the four styles at
a time: the setting with the highest hit rate at precision proxy ≥ 0.9 on the other three styles
is scored on the held-out style; hits and detections are pooled over the four folds. Only
settings costing at most --max-cost × the seed's seconds per image can be chosen.

    python benchmarks/faces_peopleart.py [--max-cost 0.5] [--slow] [--fresh]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import detection_cache  # noqa: E402
from bench_support import print_table, progress, ratio, require_data  # noqa: E402
from face_candidates import Candidate, all_candidates, results  # noqa: E402
from grouped_cv import (  # noqa: E402
    MIN_PRECISION_PROXY, Fold, add_choice_options, choose_hits, cross_validate, eligible_labels, one_fold_per_group, pooled,
)
from peopleart import DATA as PEOPLEART, ArtImage, Score, load_images  # noqa: E402

SET_NAME = "peopleart"


def peopleart_metrics(candidates: list[Candidate], images: list[ArtImage]) -> tuple[dict[str, dict[str, Score]], dict[str, float]]:
    """label → image key → Score, and label → mean seconds per image."""
    found = results(SET_NAME, candidates, [(image.key, image.path) for image in images])
    metrics: dict[str, dict[str, Score]] = {}
    for label, per_image in found.items():
        metrics[label] = {}
        for image in images:
            score = Score()
            score.add(image, [box.centre for box in per_image[image.key].boxes])
            metrics[label][image.key] = score
    seconds = {label: sum(r.seconds for r in per_image.values()) / len(per_image) for label, per_image in found.items()}
    return metrics, seconds


def score_cells(score: Score) -> list[str]:
    return [f"{score.hit_rate:.1%}", f"{score.persons_hit}/{score.frontal_persons}",
            f"{score.precision:.1%}", f"{score.plausible}/{score.detections}"]


def print_settings(candidates, totals: dict[str, Score], seconds, eligible, title: str) -> None:
    seed_label = candidates[0].label
    seed = totals[seed_label]
    rows = [
        [c.label, c.how, *score_cells(totals[c.label]), ratio(totals[c.label].persons_hit, seed.persons_hit),
         f"{seconds[c.label]:.3f}", ratio(seconds[seed_label], seconds[c.label]),
         "seed" if c is candidates[0] else ("yes" if c.label in eligible else "no (slow)")]
        for c in candidates
    ]
    print_table(["setting", "how", "person-hit rate", "hits/frontal", "precision proxy", "plausible/detections",
                 "hits vs seed", "s/image", "speed vs seed", "choosable"], rows, title=title)


def print_folds(folds: list[Fold[Score]], seed_metrics: dict[str, Score], group_of: dict[str, str], title: str) -> None:
    rows = []
    for fold in folds:
        seed = sum((seed_metrics[k] for k, g in group_of.items() if g in fold.held_out), Score())
        rows.append([", ".join(sorted(fold.held_out)), fold.held_out_images, fold.chosen,
                     *score_cells(fold.result), ratio(fold.result.persons_hit, seed.persons_hit)])
    print_table(["held-out style", "images", "chosen on the other styles", "hit rate", "hits/frontal",
                 "precision proxy", "plausible/detections", "hits vs seed"], rows, title=title)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_choice_options(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    require_data(PEOPLEART)
    if args.fresh:
        detection_cache.clear()
    images = load_images()
    candidates = all_candidates(slow=args.slow)
    group_of = {image.key: image.style for image in images}
    progress(f"{len(images)} People-Art images, {len(candidates)} settings (seed first)")
    metrics, seconds = peopleart_metrics(candidates, images)
    eligible = eligible_labels(candidates, seconds, args.max_cost)
    totals = {label: sum(per_image.values(), Score()) for label, per_image in metrics.items()}
    print_settings(candidates, totals, seconds, eligible,
                   f"People-Art, every setting, IN-SAMPLE (all {len(images)} train+val images; the best row flatters): "
                   "detection only, 1 process")

    outcome = cross_validate(metrics, group_of, one_fold_per_group(group_of), choose_hits(eligible, seconds), Score)
    seed_label = candidates[0].label
    print_folds(outcome, metrics[seed_label], group_of,
                f"People-Art, leave-one-style-out: the highest hit rate at precision proxy ≥ {MIN_PRECISION_PROXY} "
                "on the other three styles (choosable settings only), scored on the held-out style")
    out_of_fold = pooled(outcome, Score)
    seed = totals[seed_label]
    print_table(
        ["", "person-hit rate", "hits/frontal", "precision proxy", "plausible/detections", "hits vs seed"],
        [[seed_label, *score_cells(seed), "1.00×"],
         ["chosen per fold (out-of-fold, pooled)", *score_cells(out_of_fold),
          ratio(out_of_fold.persons_hit, seed.persons_hit)]],
        title="People-Art, OUT-OF-FOLD (each style scored by a setting chosen without it)",
    )


if __name__ == "__main__":
    main()
