"""How often the difference interval of analysis/compare.py (B − A, joint bootstrap) covers the true
difference of two groups' shares.

The scenarios are those of benchmarks/classify_prevalence_coverage.py (imported, not copied): its
larger scenarios (`SCENARIOS`: a classifier's rates, a labelled set, a collection size) and its
small-group classifiers (`GRID_CLASSIFIERS`, `LABELLED_TOTALS`). Every run draws one labelled set
(the confusion both groups share, as they share the classifier), draws group A at the scenario's
prevalence and group B at a prevalence of its own (the same one: a null difference; or the first
label's share moved by 0.2 or 0.5), each predicted through the true rates, and checks whether the
difference interval of `analysis.compare.difference` covers the true difference of the first
label's shares. A measurement, not a test: it always exits 0 and states per row whether the
coverage meets the target. "± s.e." is the Monte Carlo standard error of the coverage.

    python benchmarks/analysis_compare_coverage.py [--runs 200] [--grid-runs 200] [--n-boot 1000] [--seed 0]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_support import print_table, progress  # noqa: E402
from classify_prevalence_coverage import (  # noqa: E402
    FM,
    GRID_CLASSIFIERS,
    LABELLED_TOTALS,
    LEVEL,
    SCENARIOS,
    TARGET,
    Scenario,
)

from postercensus.analysis.compare import difference  # noqa: E402
from postercensus.classify.prevalence.estimate import ConfusionMatrix  # noqa: E402

SHIFTS = (0.0, 0.2, 0.5)  # B's first-label share minus A's (moved back inside [0, 1] when it would leave)
GROUP_SIZES = (5, 20, 50, 200)  # faces per group in the small-group table
GROUP_SHARES = (0.05, 0.5, 0.8)  # group A's female share in the small-group table


def shifted(prevalence: np.ndarray, shift: float) -> np.ndarray:
    """The prevalence with the first label's share moved by `shift` (or by −shift where +shift would
    leave [0, 1]), the other labels rescaled to keep their proportions."""
    first = prevalence[0] + shift if prevalence[0] + shift <= 1.0 else prevalence[0] - shift
    rest = prevalence[1:] / prevalence[1:].sum() * (1.0 - first)
    return np.array([first, *rest])


def one_run(rates: np.ndarray, labelled_rows: tuple[int, ...], labels: tuple[str, ...], predicted: tuple[str, ...],
            sizes: tuple[int, int], prevalences: tuple[np.ndarray, np.ndarray], n_boot: int,
            rng: np.random.Generator) -> tuple[bool, float, float]:
    """(covered, width, error of the point) of one simulated comparison of the first label's share."""
    labelled = np.array([rng.multinomial(count, row) for count, row in zip(labelled_rows, rates)])
    groups = []
    for size, prevalence in zip(sizes, prevalences):
        truth = rng.multinomial(size, prevalence)
        groups.append(dict(zip(predicted, map(int, sum(rng.multinomial(n, row) for n, row in zip(truth, rates))))))
    confusion = ConfusionMatrix(labels, predicted, labelled)
    target = prevalences[1][0] - prevalences[0][0]
    point, low, high = difference(confusion, groups[0], groups[1], 0, n_boot, seed=int(rng.integers(2**32)))
    return low - 1e-12 <= target <= high + 1e-12, high - low, point - target


def row(name: str, outcomes: list[tuple[bool, float, float]]) -> list[object]:
    covered = np.mean([outcome[0] for outcome in outcomes])
    runs = len(outcomes)
    return [name, runs, f"{100 * covered:.1f}", f"{100 * np.sqrt(covered * (1 - covered) / runs):.1f}",
            f"{np.mean([outcome[1] for outcome in outcomes]):.3f}",
            f"{np.mean([outcome[2] for outcome in outcomes]):+.4f}", "met" if covered >= TARGET else "not met"]


def scenario_rows(scenario: Scenario, runs: int, n_boot: int, rng: np.random.Generator) -> list[list[object]]:
    """One row per shift: both groups of the scenario's collection size."""
    rates, prevalence = np.array(scenario.rates), np.array(scenario.prevalence)
    rows = []
    for shift in SHIFTS:
        other = shifted(prevalence, shift)
        outcomes = [one_run(rates, scenario.labelled, scenario.labels, scenario.predicted,
                            (scenario.collection, scenario.collection), (prevalence, other), n_boot, rng)
                    for _ in range(runs)]
        rows.append(row(f"{scenario.name}; B {scenario.labels[0]} {other[0]:.2f}", outcomes))
    return rows


def grid_rows(runs: int, n_boot: int, rng: np.random.Generator) -> list[list[object]]:
    """Small groups: each classifier × labelled set × group size × A's share × shift."""
    rows = []
    for name, rates in GRID_CLASSIFIERS:
        for total in LABELLED_TOTALS:
            progress(f"grid: {name}, {total} labelled")
            labelled_rows = (round(0.4 * total), total - round(0.4 * total))
            for size in GROUP_SIZES:
                for share in GROUP_SHARES:
                    prevalence = np.array([share, 1 - share])
                    for shift in SHIFTS:
                        other = shifted(prevalence, shift)
                        outcomes = [one_run(np.array(rates), labelled_rows, FM, FM, (size, size),
                                            (prevalence, other), n_boot, rng) for _ in range(runs)]
                        rows.append(row(f"{name}, {total} labelled, {size}+{size} faces, "
                                        f"A {share:.2f} B {other[0]:.2f}", outcomes))
    return rows


def summary(rows: list[list[object]]) -> list[object]:
    coverages = [float(cells[2]) for cells in rows]
    worst = rows[int(np.argmin(coverages))]
    return [len(rows), sum(value < 100 * TARGET for value in coverages), f"{min(coverages):.1f} ({worst[0]})",
            f"{np.mean([float(cells[4]) for cells in rows]):.3f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="simulated comparisons per scenario row")
    parser.add_argument("--grid-runs", type=int, default=200, help="simulated comparisons per small-group row")
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    headers = ["comparison", "runs", "coverage %", "± s.e.", "mean width", "mean bias", f"target ≥ {TARGET:.0%}"]
    rng = np.random.default_rng(args.seed)
    rows = []
    for scenario in SCENARIOS:
        progress(f"{scenario.name}: {args.runs} runs a shift")
        rows += scenario_rows(scenario, args.runs, args.n_boot, rng)
    print_table(headers, rows, title=f"{LEVEL:.0%} interval of B − A (first label) over the prevalence-coverage "
                                     f"scenarios, A at the scenario's prevalence (n_boot {args.n_boot}, "
                                     f"seed {args.seed})")
    grid = grid_rows(args.grid_runs, args.n_boot, rng)
    print_table(headers, grid, title=f"Small groups: {LEVEL:.0%} interval of B − A (female), {args.grid_runs} "
                                     f"runs a row")
    print_table(["table", "rows", f"rows < {TARGET:.0%}", "worst row", "mean width"],
                [["scenarios", *summary(rows)], ["small groups", *summary(grid)]], title="Summary")


if __name__ == "__main__":
    main()
