"""One default for both sets: the face-detector setting chosen jointly on paintings and People-Art, cross-validated.

The default has to serve every collection, so it is chosen on both sets with ground truth at
once, among the settings whose seconds per image (over both sets) are at most --max-cost × the
seed's, by two rules (grouped_cv.py), each cross-validated: "targets" (the highest paintings F1
among settings with ≥ 2× the seed's People-Art hits at precision proxy ≥ 0.9: the issue's
targets, People-Art a floor and paintings' true face precision deciding; the default ships by
this rule) and "mean" (the highest mean of paintings F1 and People-Art hit rate at precision
proxy ≥ 0.9, which trades paintings precision for People-Art hits). Four joint folds each hold out a quarter of the
painters (balanced by image count) together with one People-Art style; the setting chosen on
the rest is scored on both held-out parts, and the held-out figures are pooled.

Each rule is cross-validated three times: among the settings with the detector's own boxes; among
all of them with each single detector also at every box scale (`FaceSettings.box_scale`, chosen
inside the folds with the threshold); and with the detector setting fixed at FaceSettings'
default, only its box scale chosen inside the folds (how the shipped box scale was chosen). People-Art scores by box centres, which enlarging about the
centre keeps (up to clipping at the image edge: checked and printed).

The default to ship is the same rule applied to all images; its in-sample figures flatter it,
the out-of-fold ones are what choosing this way delivers on painters and styles not seen.
Uses the detections cached by faces_paintings.py and faces_peopleart.py (computes any missing).

    python benchmarks/faces_default_choice.py [--max-cost 0.5] [--slow]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_support import print_table, progress, ratio, require_data  # noqa: E402
from face_candidates import all_candidates, default_family  # noqa: E402
from postercensus.faces.settings import NEUTRAL_BOX_SCALE  # noqa: E402
from faces_paintings import painting_metrics  # noqa: E402
from faces_peopleart import peopleart_metrics  # noqa: E402
from grouped_cv import (  # noqa: E402
    MIN_PRECISION_PROXY, PEOPLEART_TARGET, Joint, add_choice_options, balanced_folds, choose_joint, choose_joint_targets,
    cross_validate, eligible_labels, joint_zero, pooled, total,
)
from paintingfaces import DATA as PAINTINGS, Counts, load_paintings  # noqa: E402
from peopleart import DATA as PEOPLEART, Score, load_images  # noqa: E402

JOINT_FOLDS = 4  # one per People-Art style
SHIPPED_RULE = "targets"


def cells(joint: Joint) -> list[str]:
    return [f"{joint.paintings.recall:.3f}", f"{joint.paintings.precision:.3f}", f"{joint.paintings.f1:.3f}",
            f"{joint.peopleart.hit_rate:.1%}", f"{joint.peopleart.persons_hit}/{joint.peopleart.frontal_persons}",
            f"{joint.peopleart.precision:.1%}", f"{joint.criterion:.3f}"]


HEADERS = ["paint. recall", "paint. precision", "paint. F1", "PA hit rate", "PA hits", "PA precision", "criterion"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_choice_options(parser, fresh=False)
    args = parser.parse_args()
    require_data(PAINTINGS, PEOPLEART)

    paintings, art = load_paintings(), load_images()
    candidates = all_candidates(slow=args.slow)
    progress(f"{len(paintings)} paintings + {len(art)} People-Art images, {len(candidates)} settings (seed first)")
    painting_scores, painting_seconds = painting_metrics(candidates, paintings)
    art_scores, art_seconds = peopleart_metrics(candidates, art)

    painter_folds = balanced_folds({p.key: p.painter for p in paintings}, JOINT_FOLDS)
    fold_of_painter = {painter: index for index, fold in enumerate(painter_folds) for painter in fold}
    styles = sorted({image.style for image in art})
    group_of = {f"paintings/{p.key}": f"painters {fold_of_painter[p.painter] + 1}" for p in paintings}
    group_of |= {f"peopleart/{image.key}": image.style for image in art}
    folds = [{f"painters {index + 1}", style} for index, style in enumerate(styles)]
    metrics = {
        c.label: {f"paintings/{key}": Joint(counts, Score()) for key, counts in painting_scores[c.label].items()}
        | {f"peopleart/{key}": Joint(Counts(), score) for key, score in art_scores[c.label].items()}
        for c in candidates
    }
    images = len(paintings) + len(art)
    seconds = {
        c.label: (painting_seconds[c.label] * len(paintings) + art_seconds[c.label] * len(art)) / images
        for c in candidates
    }
    eligible = eligible_labels(candidates, seconds, args.max_cost)
    totals = {c.label: total(metrics[c.label], group_of, joint_zero) for c in candidates}
    seed_label = candidates[0].label
    seed = totals[seed_label]

    print_table(
        ["setting", *HEADERS, "s/image (both)", "speed vs seed", "choosable"],
        [[c.label, *cells(totals[c.label]), f"{seconds[c.label]:.3f}", ratio(seconds[seed_label], seconds[c.label]),
          "seed" if c is candidates[0] else ("yes" if c.label in eligible else "no (slow)")] for c in candidates],
        title=f"Both sets, every setting, IN-SAMPLE (criterion = mean of paintings F1 and People-Art hit rate; "
              f"choosable: ≤ {args.max_cost} × the seed's s/image; chosen only if PA precision ≥ {MIN_PRECISION_PROXY})",
    )
    scaled = [c for c in candidates if c.unscaled is not None]
    moved = [c.label for c in scaled if art_scores[c.label] != art_scores[c.unscaled]]
    print(f"People-Art scores of the {len(scaled)} box-scaled settings equal their unscaled settings' on every image: "
          + ("yes" if not moved else f"NO, {len(moved)} differ ({', '.join(moved[:5])} …)") + "\n")
    own_boxes = [c.label for c in candidates if c.label in eligible and c.box_scale == NEUTRAL_BOX_SCALE]
    pools = {"detector's own boxes": own_boxes, "box scale chosen with the setting": eligible,
             "default detector setting, box scale chosen": default_family(candidates)}
    for pool_name, pool in pools.items():
        rules = {
            "targets": (choose_joint_targets(pool, seconds, seed_label),
                        f"highest paintings F1 among settings with ≥ {PEOPLEART_TARGET:g}× the seed's People-Art hits "
                        f"at precision proxy ≥ {MIN_PRECISION_PROXY} (the issue's targets; else the mean rule)"),
            "mean": (choose_joint(pool, seconds), "highest mean of paintings F1 and People-Art hit rate, People-Art "
                                                  f"precision proxy ≥ {MIN_PRECISION_PROXY}"),
        }
        for name, (rule, wording) in rules.items():
            report(f"{name}, {pool_name}", wording, rule, metrics, group_of, folds, painter_folds, totals, seconds,
                   seed_label, candidates)
    print(f"The default detector setting was chosen by the '{SHIPPED_RULE}' rule on the detector's own boxes; its box "
          "scale by the same rule with that setting fixed (the 'default detector setting, box scale chosen' rows).")


def report(name, wording, rule, metrics, group_of, folds, painter_folds, totals, seconds, seed_label, candidates) -> None:
    """One choice rule: its per-fold choices, its pooled out-of-fold figures, and its choice on all images."""
    outcome = cross_validate(metrics, group_of, folds, rule, joint_zero)
    rows = []
    for fold in outcome:
        painters = next(g for g in fold.held_out if g.startswith("painters"))
        style = next(g for g in fold.held_out if not g.startswith("painters"))
        rows.append([f"{painters} ({len(painter_folds[int(painters.split()[1]) - 1])}) + {style}", fold.chosen,
                     *cells(fold.result)])
    print_table(["held out", "chosen on the rest", *HEADERS], rows,
                title=f"Rule '{name}' ({wording}): 4 joint folds (a quarter of the painters + one style held out)")
    out_of_fold = pooled(outcome, joint_zero)
    seed = totals[seed_label]
    print_table(
        ["", *HEADERS, "F1 vs seed", "PA hits vs seed"],
        [[seed_label, *cells(seed), "1.00×", "1.00×"],
         ["chosen per fold (out-of-fold, pooled)", *cells(out_of_fold), ratio(out_of_fold.paintings.f1, seed.paintings.f1),
          ratio(out_of_fold.peopleart.persons_hit, seed.peopleart.persons_hit)]],
        title=f"Rule '{name}', both sets, OUT-OF-FOLD",
    )
    default = rule(totals)
    chosen = next(c for c in candidates if c.label == default)
    print(f"Rule '{name}' on all images: {default}\n  {chosen.settings}")
    print(f"  in-sample: paintings F1 {totals[default].paintings.f1:.3f} "
          f"({ratio(totals[default].paintings.f1, seed.paintings.f1)} the seed), People-Art hits "
          f"{ratio(totals[default].peopleart.persons_hit, seed.peopleart.persons_hit)} the seed at precision proxy "
          f"{totals[default].peopleart.precision:.1%}, {ratio(seconds[seed_label], seconds[default])} the seed's speed "
          "(1 process, detection only)\n")

if __name__ == "__main__":
    main()
