"""Which face-detector setting finds the hand-boxed faces on paintings, chosen by painter-grouped cross-validation.

On ../shared/data/painting-faces (463 paintings, 636 hand-drawn face boxes): recall, precision
and F1 at IoU ≥ 0.3 (greedy one-to-one matching by score; benchmarks/paintingfaces.py) of the
seed pipeline and of every setting in benchmarks/face_candidates.py, detection only, one image
after another in this process (seconds per image are per-image costs, measured on whatever
else the machine was doing: compare within one run).

Then the honest figure: folds hold out whole painters (balanced by image count); in each, the
setting with the best F1 on the other painters is scored on the held-out ones. The table of
every setting is in-sample (each setting scored on all images, so the best row flatters); the
out-of-fold line is what a new collection can expect from choosing this way.

Only settings whose seconds per image are at most --max-cost × the seed's can be chosen (the
default has to be ≥ 3× the seed's speed on 2 cores); the others are still listed. The choice is
cross-validated three times: among the settings with the detector's own boxes; among all of them
with each single detector also at every box scale (`FaceSettings.box_scale`, chosen jointly with
the threshold inside the folds: the hand boxes take in more of the head than the detectors' do);
and with the detector setting fixed at FaceSettings' default, only its box scale chosen in the folds.

    python benchmarks/faces_paintings.py [--folds 5] [--max-cost 0.5] [--slow] [--fresh]
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import detection_cache  # noqa: E402
from bench_support import print_table, progress, ratio, require_data  # noqa: E402
from face_candidates import Candidate, all_candidates, default_family, results  # noqa: E402
from postercensus.faces.settings import NEUTRAL_BOX_SCALE  # noqa: E402
from grouped_cv import Fold, add_choice_options, balanced_folds, choose_f1, cross_validate, eligible_labels, pooled  # noqa: E402
from paintingfaces import DATA, Counts, Painting, load_paintings, match  # noqa: E402

SET_NAME = "paintings"


def painting_metrics(candidates: list[Candidate], paintings: list[Painting]) -> tuple[dict[str, dict[str, Counts]], dict[str, float]]:
    """label → painting key → Counts, and label → mean seconds per image."""
    found = results(SET_NAME, candidates, [(p.key, p.path) for p in paintings])
    metrics = {
        label: {
            p.key: match([(b.left, b.top, b.right, b.bottom, b.score) for b in per_image[p.key].boxes], p.faces)
            for p in paintings
        }
        for label, per_image in found.items()
    }
    seconds = {label: sum(r.seconds for r in per_image.values()) / len(per_image) for label, per_image in found.items()}
    return metrics, seconds


def counts_cells(counts: Counts) -> list[str]:
    return [f"{counts.recall:.3f}", f"{counts.precision:.3f}", f"{counts.f1:.3f}",
            f"{counts.tp}/{counts.tp + counts.fp}"]


def print_settings(candidates, totals: dict[str, Counts], seconds, eligible, title: str) -> None:
    seed = totals[candidates[0].label]
    rows = [
        [c.label, c.how, *counts_cells(totals[c.label]), ratio(totals[c.label].f1, seed.f1),
         f"{seconds[c.label]:.3f}", ratio(seconds[candidates[0].label], seconds[c.label]),
         "seed" if c is candidates[0] else ("yes" if c.label in eligible else "no (slow)")]
        for c in candidates
    ]
    print_table(["setting", "how", "recall", "precision", "F1", "matched/detections", "F1 vs seed",
                 "s/image", "speed vs seed", "choosable"], rows, title=title)


def describe_groups(groups: set[str], sizes: dict[str, int], limit: int = 4) -> str:
    """The largest held-out groups by name (with their image counts), then how many more."""
    names = [f"{name} ({sizes[name]})" for name in sorted(groups, key=lambda g: (-sizes[g], g))]
    return ", ".join(names[:limit]) + (f" … (+{len(names) - limit})" if len(names) > limit else "")


def print_folds(folds: list[Fold[Counts]], seed_metrics: dict[str, Counts], group_of: dict[str, str], title: str) -> None:
    sizes = Counter(group_of.values())
    rows = []
    for index, fold in enumerate(folds, 1):
        seed = sum((seed_metrics[k] for k, g in group_of.items() if g in fold.held_out), Counts())
        rows.append([index, len(fold.held_out), describe_groups(fold.held_out, sizes), fold.held_out_images, fold.chosen,
                     f"{fold.result.f1:.3f}", f"{seed.f1:.3f}"])
    print_table(["fold", "painters", "held-out painters", "images", "chosen on the other folds",
                 "held-out F1", "seed F1"], rows, title=title)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, default=5, help="painter-grouped folds (default 5)")
    add_choice_options(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    require_data(DATA)
    if args.fresh:
        detection_cache.clear()
    paintings = load_paintings()
    candidates = all_candidates(slow=args.slow)
    group_of = {p.key: p.painter for p in paintings}
    progress(f"{len(paintings)} paintings, {sum(len(p.faces) for p in paintings)} hand boxes, "
             f"{len(set(group_of.values()))} painters; {len(candidates)} settings (seed first)")
    metrics, seconds = painting_metrics(candidates, paintings)
    eligible = eligible_labels(candidates, seconds, args.max_cost)
    totals = {label: sum(per_image.values(), Counts()) for label, per_image in metrics.items()}
    print_settings(candidates, totals, seconds, eligible,
                   f"Paintings, every setting, IN-SAMPLE (all {len(paintings)} images; the best row flatters): "
                   f"face recall/precision/F1 at IoU ≥ 0.3, detection only, 1 process")

    folds = balanced_folds(group_of, args.folds)
    seed_label = candidates[0].label
    seed = totals[seed_label]
    own_boxes = [c.label for c in candidates if c.label in eligible and c.box_scale == NEUTRAL_BOX_SCALE]
    pools = {"detector's own boxes (box scale 1)": own_boxes, "box scale chosen with the setting": eligible,
             "default detector setting, box scale chosen": default_family(candidates)}
    rows = [[seed_label, *counts_cells(seed), "1.00×"]]
    for name, pool in pools.items():
        outcome = cross_validate(metrics, group_of, folds, choose_f1(pool, seconds), Counts)
        print_folds(outcome, metrics[seed_label], group_of,
                    f"Paintings, {args.folds} painter-grouped folds, {name}: the setting with the best F1 on the "
                    f"other folds (choosable settings only), scored on the held-out painters")
        out_of_fold = pooled(outcome, Counts)
        rows.append([f"chosen per fold, {name}", *counts_cells(out_of_fold), ratio(out_of_fold.f1, seed.f1)])
    print_table(
        ["", "recall", "precision", "F1", "matched/detections", "F1 vs seed"], rows,
        title="Paintings, OUT-OF-FOLD, pooled (each image scored by a setting chosen without its painter)",
    )


if __name__ == "__main__":
    main()
