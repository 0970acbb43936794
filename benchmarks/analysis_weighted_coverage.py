"""How often the area-weighted share's interval (analysis/weighted_shares.py) covers the true weighted
share, with Kish's effective sample size (the shipped choice) and with the plain face count.

The scenarios are those of benchmarks/classify_prevalence_coverage.py (`SCENARIOS`, imported, not
copied), plus its NK-default classifier on small groups. Every run draws a labelled set, a collection
of faces (true labels at the scenario's prevalence, each predicted through the true rates) and a
weight per face, lognormal with spread sigma and the first label's faces 0.6 times as large as the
others' (women drawn smaller, which makes the weighted share differ from the share of faces). The true
weighted share is then p₀·0.6 / (p₀·0.6 + Σ_other p_k). Errors do not depend on a face's size here, the
assumption under which the correction carries over to weighted proportions. A measurement, not a
test: it always exits 0 and states per row whether the coverage meets the target.

    python benchmarks/analysis_weighted_coverage.py [--runs 300] [--n-boot 1000] [--seed 0]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_support import print_table, progress  # noqa: E402
from classify_prevalence_coverage import (  # noqa: E402
    DEFAULT_MODEL_NK,
    FM,
    LEVEL,
    SCENARIOS,
    TARGET,
    Scenario,
)

from postercensus.analysis.weighted_shares import effective_size, proportion_shares  # noqa: E402
from postercensus.classify.prevalence.estimate import ConfusionMatrix  # noqa: E402

SIGMAS = (0.5, 1.0, 1.5)  # lognormal spread of face areas (1.5: a few faces dominate a group)
FIRST_LABEL_SIZE = 0.6  # the first label's faces are this much smaller on average
SIZES = {"kish": lambda weights: effective_size(weights), "face count": lambda weights: float(len(weights))}
SMALL = tuple(Scenario(f"NK default, {n} faces, p=0.3", FM, FM, DEFAULT_MODEL_NK, (0.3, 0.7), (40, 60), n)
              for n in (10, 50))


def simulate(scenario: Scenario, sigma: float, runs: int, n_boot: int,
             rng: np.random.Generator) -> dict[str, tuple[float, float]]:
    """Per way of sizing the proportions: (coverage, mean width) of the first label's interval;
    and "n_eff / n": the mean effective share of the faces."""
    rates = np.array(scenario.rates)
    prevalence = np.array(scenario.prevalence)
    scale = np.array([FIRST_LABEL_SIZE] + [1.0] * (len(prevalence) - 1))
    target = prevalence[0] * scale[0] / (prevalence * scale).sum()
    covered = {name: 0 for name in SIZES}
    widths = {name: 0.0 for name in SIZES}
    fractions = []
    for _ in range(runs):
        labelled = np.array([rng.multinomial(count, row) for count, row in zip(scenario.labelled, rates)])
        confusion = ConfusionMatrix(scenario.labels, scenario.predicted, labelled)
        truth = rng.choice(len(prevalence), size=scenario.collection, p=prevalence)
        cumulative = np.cumsum(rates, axis=1)[truth]  # each face's predicted category through its true rates
        predicted = np.minimum((rng.random(len(truth))[:, None] >= cumulative).sum(axis=1), rates.shape[1] - 1)
        weights = scale[truth] * rng.lognormal(0.0, sigma, size=scenario.collection)
        q = np.bincount(predicted, weights=weights, minlength=len(scenario.predicted)) / weights.sum()
        fractions.append(effective_size(weights) / scenario.collection)
        seed = int(rng.integers(2**32))
        for name, size in SIZES.items():
            _, low, high = proportion_shares(q, size(weights), confusion, n_boot, LEVEL, seed)
            first = scenario.labels[0]
            covered[name] += low[first] - 1e-12 <= target <= high[first] + 1e-12
            widths[name] += high[first] - low[first]
    return {**{name: (covered[name] / runs, widths[name] / runs) for name in SIZES},
            "n_eff / n": (float(np.mean(fractions)), 0.0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    rows, misses = [], {name: 0 for name in SIZES}
    for scenario in (*SCENARIOS, *SMALL):
        for sigma in SIGMAS:
            progress(f"{scenario.name}, sigma {sigma}")
            result = simulate(scenario, sigma, args.runs, args.n_boot, rng)
            row: list[object] = [scenario.name, sigma, f"{result['n_eff / n'][0]:.2f}"]
            for name in SIZES:
                coverage, width = result[name]
                misses[name] += coverage < TARGET
                row += [f"{100 * coverage:.1f}", f"{width:.3f}"]
            row.append("met" if result["kish"][0] >= TARGET else "not met")
            rows.append(row)
    headers = ["scenario", "sigma", "n_eff / n"]
    for name in SIZES:
        headers += [f"{name} cov %", f"{name} width"]
    se = 100 * np.sqrt(0.95 * 0.05 / args.runs)
    print_table([*headers, f"kish ≥ {TARGET:.0%}"], rows,
                title=f"{LEVEL:.0%} interval coverage of the true area-weighted share of the first label, "
                      f"{args.runs} runs a row (Monte Carlo s.e. about {se:.1f} points; n_boot {args.n_boot}, "
                      f"seed {args.seed})")
    print_table(["sizing", "rows", f"rows < {TARGET:.0%}"], [[name, len(rows), misses[name]] for name in SIZES],
                title="Summary")


if __name__ == "__main__":
    main()
