"""Correcting with the collection's own validation sample: bias, coverage and width (issue 23, item 4).

Collections of --size faces are composed (`composed_posters`) at female shares 0.1, 0.3 and 0.5
from out-of-fold predicted faces, in three scenarios: NK poster faces corrected with the posters
confusion of other poster folds (matched: issue 22's check), scene-painting faces corrected as
posters, and NK poster faces corrected as paintings (both mismatched). Each repetition draws a
collection and a simple random validation sample of 25, 50, 100 or 200 of its faces (their true
labels known, as a coder would give them), then estimates the female share with its 95 % interval:

- `card`: today's correction, the card's domain confusion alone (the 0-label baseline row);
- `validation, prior K`: the validation sample's confusion with the card's as a prior worth K card
  faces (`classify.prevalence.estimate.validated_confusion`; K = `full`: all the card's faces);
- `validation + known, prior K`: the same confusion corrects only the faces *not* validated, and the
  validated faces count with their true labels (they are faces of the collection, labelled).

The prior's weight is chosen by the rule `choose`: with 100 labels, every scenario and share within
|bias| ≤ 0.02 and coverage ≥ 0.93, then the narrowest mean width; each choice is also checked
leave-one-scenario-out (chosen on two scenarios, judged on the third). A measurement, exits 0.

    python benchmarks/classify_validation_sample.py [--reps 100] [--size 500] [--n-boot 1000] [--seed 0]
"""
from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_support import print_table, progress  # noqa: E402
from composed_posters import Scenario, compose, scenarios  # noqa: E402

from postercensus.classify.models import modelfolder  # noqa: E402
from postercensus.classify.prevalence.estimate import estimate_prevalence, validated_confusion  # noqa: E402

SHARES = (0.1, 0.3, 0.5)
SAMPLES = (25, 50, 100, 200)
PRIORS: tuple[float | None, ...] = (0, 10, 50, 200, None)  # None: the card's every face
MAX_BIAS, MIN_COVERAGE, CHOOSE_AT = 0.02, 0.93, 100


def prior_name(prior: float | None) -> str:
    return "full" if prior is None else str(int(prior))


def one_rep(scenario: Scenario, share: float, size: int, rng: np.random.Generator, n_boot: int,
            results: dict[tuple, list]) -> None:
    """One composed collection: the card estimate and every (sample size, prior, known) estimate."""
    pool, card = scenario.draw(rng)
    labels = list(card.labels)
    true, decided = compose(pool, share, size, labels, rng)
    female = labels[0]

    def counts(mask: np.ndarray) -> dict[str, int]:
        return {category: int((decided[mask] == category).sum()) for category in card.predicted}

    everything = np.ones(size, dtype=bool)
    seed = int(rng.integers(2**31))
    estimate = estimate_prevalence(counts(everything), card, n_boot=n_boot, seed=seed)
    results[(scenario.name, share, 0, "card")].append(
        (estimate.corrected_share[female], estimate.ci_low[female], estimate.ci_high[female]))
    for n in SAMPLES:
        sample = rng.choice(size, size=n, replace=False)
        rest = np.ones(size, dtype=bool)
        rest[sample] = False
        known_female = int((true[sample] == female).sum())
        for prior in PRIORS:
            confusion = validated_confusion(list(true[sample]), list(decided[sample]), np.ones(n), card, prior)
            try:
                whole = estimate_prevalence(counts(everything), confusion, n_boot=n_boot, seed=seed)
                remainder = estimate_prevalence(counts(rest), confusion, n_boot=n_boot, seed=seed)
            except ValueError:  # a validation confusion that cannot separate the labels: no answer
                results[(scenario.name, share, n, f"validation, prior {prior_name(prior)}")].append((np.nan,) * 3)
                results[(scenario.name, share, n, f"validation + known, prior {prior_name(prior)}")].append((np.nan,) * 3)
                continue
            results[(scenario.name, share, n, f"validation, prior {prior_name(prior)}")].append(
                (whole.corrected_share[female], whole.ci_low[female], whole.ci_high[female]))
            rest_n = size - n
            results[(scenario.name, share, n, f"validation + known, prior {prior_name(prior)}")].append(tuple(
                (known_female + rest_n * getattr(remainder, name)[female]) / size
                for name in ("corrected_share", "ci_low", "ci_high")))


def summarise(runs: list[tuple[float, float, float]], truth: float) -> tuple[float, float, float, int]:
    """(bias, coverage, mean width, unanswered) over the repetitions; an unanswered run counts as not
    covering (a correction that gives no answer has not covered the truth)."""
    array = np.array(runs, dtype=float)
    answered = ~np.isnan(array[:, 0])
    covered = answered & (array[:, 1] <= truth) & (truth <= array[:, 2])
    bias = float(np.mean(array[answered, 0]) - truth) if answered.any() else np.nan
    width = float(np.mean(array[answered, 2] - array[answered, 1])) if answered.any() else np.nan
    return bias, float(covered.mean()), width, int((~answered).sum())


def choose(table: dict, names: list[str], methods: list[str]) -> str | None:
    """The method meeting both targets at CHOOSE_AT labels in every scenario and share of `names`,
    narrowest mean width first; None when none meets them."""
    passing = []
    for method in methods:
        cells = [table[(name, share, CHOOSE_AT, method)] for name in names for share in SHARES]
        if all(abs(bias) <= MAX_BIAS and coverage >= MIN_COVERAGE for bias, coverage, _, _ in cells):
            passing.append((float(np.mean([width for _, _, width, _ in cells])), method))
    return min(passing)[1] if passing else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=100, help="repetitions per scenario and share (≥ 50)")
    parser.add_argument("--size", type=int, default=500, help="faces per composed collection")
    parser.add_argument("--n-boot", type=int, default=1000, help="bootstrap replicates per interval")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    folder = modelfolder.default_model_folder()
    card = modelfolder.read_card(folder)
    if not card.domains:
        sys.exit("the default card has no per-domain out-of-fold predictions to compose collections from")
    print(f"model {card.model_id} version {modelfolder.model_version(folder)}; collections of {args.size} "
          f"faces (drawn with replacement from the pool), {args.reps} repetitions per scenario and share, "
          f"{args.n_boot} bootstrap replicates, seed {args.seed}\n")
    rng = np.random.default_rng(args.seed)
    results: dict[tuple, list] = defaultdict(list)
    found = scenarios(card, args.seed)
    for scenario in found:
        pools = ", ".join(f"{len(pool.true)}" for pool in scenario.pools)
        print(f"{scenario.name}: pool faces {pools}; card confusion faces "
              f"{', '.join(str(int(c.counts.sum())) for c in scenario.confusions)}")
        for share in SHARES:
            progress(f"{scenario.name}, share {share}")
            for _ in range(args.reps):
                one_rep(scenario, share, args.size, rng, args.n_boot, results)
    print()
    table = {key: summarise(runs, key[1]) for key, runs in results.items()}
    methods = [f"validation{' + known' if known else ''}, prior {prior_name(prior)}"
               for known in (False, True) for prior in PRIORS]
    names = [scenario.name for scenario in found]
    rows = []
    for name in names:
        for share in SHARES:
            rows.append([name, share, 0, "card", *_cells(table[(name, share, 0, "card")])])
            for n in SAMPLES:
                for method in methods:
                    rows.append([name, share, n, method, *_cells(table[(name, share, n, method)])])
    print_table(["scenario", "truth", "labels", "estimator", "bias", "coverage", "mean width", "no answer"], rows,
                "Every setting: female share of composed collections (bias = mean estimate − truth)")
    summary = []
    for n in (0, *SAMPLES):
        for method in (["card"] if n == 0 else methods):
            cells = [table[(name, share, n, method)] for name in names for share in SHARES]
            summary.append([n, method, round(max(abs(c[0]) for c in cells), 4), round(min(c[1] for c in cells), 3),
                            round(float(np.mean([c[2] for c in cells])), 4)])
    print_table(["labels", "estimator", "worst |bias|", "worst coverage", "mean width"], summary,
                "Worst case over the 3 scenarios × 3 shares")
    chosen = choose(table, names, methods)
    print(f"\nchosen on all scenarios (targets at {CHOOSE_AT} labels, then narrowest): {chosen}")
    held = []
    for left in names:
        others = [name for name in names if name != left]
        pick = choose(table, others, methods)
        cells = [table[(left, share, CHOOSE_AT, pick)] for share in SHARES] if pick else []
        held.append([left, pick or "none meets the targets",
                     round(max(abs(c[0]) for c in cells), 4) if cells else "-",
                     round(min(c[1] for c in cells), 3) if cells else "-"])
    print_table(["held-out scenario", "chosen on the other two", f"worst |bias| at {CHOOSE_AT}",
                 f"worst coverage at {CHOOSE_AT}"], held, "Leave one scenario out")


def _cells(summary: tuple[float, float, float, int]) -> list[object]:
    bias, coverage, width, unanswered = summary
    return [f"{bias:+.4f}", round(coverage, 3), round(width, 4), unanswered]


if __name__ == "__main__":
    main()
