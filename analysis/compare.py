"""Two groups of posters (two keywords, sources or decades) compared: each group's corrected shares
and the difference B − A with a 95 % interval from a joint bootstrap.

The two groups are counted by one classifier, so an error in its confusion rates moves both shares
the same way: drawing each group's interval on its own and combining them would count that error
twice. Every replicate here draws the rates once for both groups (as `classify.prevalence.estimate.bootstrap_draws`
does) and each group's proportions on its own. The difference's lower bound takes B's lower-bound
draws minus A's upper-bound ones and its upper bound the other way round (the "exact" draws lean
towards the bound they serve, `classify.prevalence.estimate.estimate_prevalence`), and the interval is widened
to contain the point difference. benchmarks/analysis_compare_coverage.py measures its coverage.
"""
from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from postercensus.analysis.filters import CLOSE_MATCHES, FilterError, Filters
from postercensus.analysis.load import Tables
from postercensus.analysis.selection import Selection, select
from postercensus.catalog.atomicwrite import write_atomically
from postercensus.catalog.keywords import normalise_keywords
from postercensus.classify.prevalence.estimate import (
    EXACT,
    LOWER,
    UPPER,
    Confusion,
    SideDraws,
    choose_method,
    corrected_shares,
    identified_matrices,
    rate_draws,
)

COMPARE_COLUMNS = ["group", "value", "label", "faces", "corrected_share", "ci_low", "ci_high"]
GROUPINGS = ("keyword", "source", "decade")
DIFFERENCE = "B-A"
LEVEL = 0.95
N_BOOT = 2000


def _known_values(selection: Selection, by: str) -> list[str]:
    """Every value of the grouping among the selected items, as text."""
    if by == "keyword":
        return sorted(selection.keywords.known)
    if by == "source":
        return sorted(selection.items["source"].dropna().astype(str).unique())
    return [str(int(decade)) for decade in sorted(selection.items["decade"].dropna().unique())]


def _normalised(by: str, value: str) -> str:
    """The value as the catalogue stores it: keywords normalised, "1930s" read as decade 1930."""
    value = str(value).strip()
    if by == "keyword":
        parts = normalise_keywords([value])
        return parts[0] if len(parts) == 1 else value
    if by == "decade":
        return value[:-1] if value.endswith("s") else value
    return value


def _group_rows(selection: Selection, by: str, value: str) -> np.ndarray:
    """A mask over the selection's items: those in the group (value already checked)."""
    if by == "keyword":
        return selection.keywords.carrying([value])[value]
    if by == "source":
        return selection.items["source"].astype(str).eq(value).to_numpy()
    return selection.items["decade"].eq(int(value)).fillna(False).to_numpy(dtype=bool)


def _checked(selection: Selection, by: str, value: str) -> str:
    """The normalised value, or FilterError naming close matches among the selection's values."""
    wanted = _normalised(by, value)
    known = _known_values(selection, by)
    if wanted in known:
        return wanted
    close = difflib.get_close_matches(wanted, known, n=CLOSE_MATCHES)
    hint = (f"close matches: {', '.join(repr(match) for match in close)}" if close
            else f"no close match ({len(known)} {by}s in this selection)")
    raise FilterError(f"no selected item has the {by} {value!r}; {hint}")


def group_values(tables: Tables, by: str, filters: Filters = Filters()) -> list[str]:
    """Every value of the grouping among the filtered items, sorted (what a selector offers)."""
    if by not in GROUPINGS:
        raise FilterError(f"cannot group by {by!r}; use one of {', '.join(GROUPINGS)}")
    return _known_values(select(tables, filters), by)


def _unclipped_shares(rates: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Shares (B, K) fitting proportions q (B, C) through rates (B, K, C) by least squares with Σp = 1
    but no bound at 0 or 1: Rogan–Gladen unclipped for two labels."""
    batch, labels, _ = rates.shape
    mixing = np.swapaxes(rates, 1, 2)  # (B, C, K): q ≈ mixing · p
    kkt = np.zeros((batch, labels + 1, labels + 1))
    kkt[:, :labels, :labels] = rates @ mixing
    kkt[:, :labels, labels] = kkt[:, labels, :labels] = 1.0
    rhs = np.zeros((batch, labels + 1))
    rhs[:, :labels] = (rates @ q[:, :, None])[:, :, 0]
    rhs[:, labels] = 1.0
    return (np.linalg.pinv(kkt) @ rhs[:, :, None])[:, :labels, 0]  # pinv: an unidentified replicate, not an abort


def difference(confusion: Confusion, a: Mapping[str, int], b: Mapping[str, int], label: int,
               n_boot: int = N_BOOT, seed: int = 0) -> tuple[float, float, float]:
    """(B − A, low, high) of label `label`'s corrected share from two groups' counts (every predicted
    category given), with its 95 % interval from one set of rate draws for both groups.

    The point is the difference of the groups' corrected shares (as their own rows give them). The
    replicates are not clipped to [0, 1]: where a group's true share is 0 or 1, clipping its
    replicates removes the rate error from one side of the difference, and the interval fell short
    (88–91 % coverage for a group of 200 faces all female, benchmarks/analysis_compare_coverage.py);
    unclipped, the interval is the difference's own, then bounded to [−1, 1]. An unidentified
    replicate counts as −1 for the lower bound and +1 for the upper one (dropping it would narrow
    the interval); the interval is widened to contain the point. Raises ValueError where the
    confusion cannot separate the labels, or a group has no face.
    """
    columns = [np.array([counts[category] for category in confusion.predicted], dtype=np.int64) for counts in (a, b)]
    if not all(column.sum() for column in columns):
        raise ValueError("each group needs at least one decided face to compare")
    rates = confusion.rates()
    points = [corrected_shares(rates, column.astype(float)) for column in columns]
    point = float(points[1][label] - points[0][label])
    method = choose_method(*rates.shape)
    rng = np.random.default_rng(seed)
    boot_rates = rate_draws(confusion, n_boot, rng)
    identified = identified_matrices(boot_rates, method)
    sides = [SideDraws(column, confusion, boot_rates, rng, method, EXACT) for column in columns]

    def replicates(bound_a: str, bound_b: str) -> np.ndarray:
        shares = [_unclipped_shares(boot_rates, side.proportions(label, bound))[:, label]
                  for side, bound in zip(sides, (bound_a, bound_b))]
        return shares[1] - shares[0]

    tail = (1 - LEVEL) / 2
    low = float(np.quantile(np.where(identified, replicates(UPPER, LOWER), -1.0), tail))
    high = float(np.quantile(np.where(identified, replicates(LOWER, UPPER), 1.0), 1 - tail))
    return point, min(max(low, -1.0), point), max(min(high, 1.0), point)


def difference_rows(selection: Selection, a: dict[str, int], b: dict[str, int],
                    n_boot: int = N_BOOT) -> list[dict]:
    """The B − A rows per category from two groups' counts (NaN where either share is unknown, and
    for `uncertain`, which has no corrected share)."""
    shares = selection.shares
    rows_a, rows_b = shares.records(a), shares.records(b)
    labels = list(shares.confusion.labels) if shares.confusion is not None else []
    rows = []
    for row_a, row_b in zip(rows_a, rows_b):
        label = row_a["label"]
        point = low = high = math.nan
        known = not (math.isnan(row_a["corrected_share"]) or math.isnan(row_b["corrected_share"]))
        if label in labels and known:
            full_a = {category: int(a.get(category, 0)) for category in shares.confusion.predicted}
            full_b = {category: int(b.get(category, 0)) for category in shares.confusion.predicted}
            point, low, high = difference(shares.confusion, full_a, full_b, labels.index(label), n_boot)
        rows.append({"label": label, "faces": row_a["faces"] + row_b["faces"], "corrected_share": point,
                     "ci_low": low, "ci_high": high})
    return rows


def compare(tables: Tables, by: str, a: str, b: str, filters: Filters = Filters(),
            n_boot: int = N_BOOT) -> pd.DataFrame:
    """Groups A (`a`), B (`b`) and B-A among the filtered items, grouped `by` keyword, source or
    decade ("1930" or "1930s"): per group and category the faces and the corrected share with its
    95 % interval; the B-A rows hold the difference of the corrected shares and its joint-bootstrap
    interval, and `faces` of both groups. `value` names the group ("industry − agriculture" for B-A);
    a decade as the user named it ("1940s" stays "1940s", not the stored 1940), keywords and sources
    as the catalogue stores them.

    Raises FilterError for an unknown grouping, a value no selected item has (naming close matches),
    or a selection without a model. A poster in both groups (two keywords) counts in both, which
    makes the difference's interval wider than it need be, never narrower.
    """
    if by not in GROUPINGS:
        raise FilterError(f"cannot group by {by!r}; use one of {', '.join(GROUPINGS)}")
    selection = select(tables, filters)
    if selection.card is None:
        raise FilterError("no model has predicted these faces: run `postercensus classify predict` first")
    values = [_checked(selection, by, value) for value in (a, b)]
    names = [str(value).strip() for value in (a, b)] if by == "decade" else values
    counts = [selection.item_faces.counts(np.flatnonzero(_group_rows(selection, by, value))) for value in values]
    records = []
    for group, name, group_counts in zip(("A", "B"), names, counts):
        records += [{"group": group, "value": name, **{column: row[column] for column in COMPARE_COLUMNS[2:]}}
                    for row in selection.shares.records(group_counts)]
    records += [{"group": DIFFERENCE, "value": f"{names[1]} − {names[0]}", **row}
                for row in difference_rows(selection, counts[0], counts[1], n_boot)]
    return pd.DataFrame(records, columns=COMPARE_COLUMNS)


def _interval(row: pd.Series) -> str:
    if math.isnan(row["corrected_share"]):
        return "unknown"
    signed = f"{row['corrected_share']:.2f} [{row['ci_low']:.2f}, {row['ci_high']:.2f}]"
    return signed.replace("-", "−")


def quotable(table: pd.DataFrame, label: str | None = None) -> str:
    """The line a researcher can quote, e.g. `female share: agriculture 0.58 [0.47, 0.69] vs industry
    0.21 [0.12, 0.31]; difference −0.37 [−0.52, −0.22]` (label: the model's first label by default)."""
    if label is None:
        label = str(table["label"].iloc[0])
    rows = {group: table[(table["group"] == group) & (table["label"] == label)] for group in ("A", "B", DIFFERENCE)}
    if any(row.empty for row in rows.values()):
        raise ValueError(f"the comparison has no rows of label {label!r}; labels: {sorted(set(table['label']))}")
    a, b, difference = (rows[group].iloc[0] for group in ("A", "B", DIFFERENCE))
    return (f"{label} share: {a['value']} {_interval(a)} vs {b['value']} {_interval(b)}; "
            f"difference {_interval(difference)}")



def default_path(home: Path, by: str, a: str, b: str) -> Path:
    """Where a comparison's CSV goes when no file is named: <home>/comparisons/<by>-<a>-vs-<b>.csv,
    each value reduced to letters, digits, dots and dashes so any keyword makes a file name."""
    def slug(value: str) -> str:
        return re.sub(r"[^0-9A-Za-z.]+", "-", value).strip("-").lower() or "group"

    return Path(home) / "comparisons" / f"{by}-{slug(a)}-vs-{slug(b)}.csv"


def write_comparison(table: pd.DataFrame, out: Path) -> Path:
    """Write a `compare` table to `out` as UTF-8 CSV, atomically (a half-written table is never left)."""
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    write_atomically(Path(out), table.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    return Path(out)
