"""Intercoder agreement of hand labels: Krippendorff's alpha (nominal) and percent agreement.

Content analysts report how far independent coders agree before anyone trusts hand coding as a
yardstick; the validation sample is such a yardstick. Alpha is computed from the coincidence
matrix (Krippendorff 2011, "Computing Krippendorff's alpha-reliability"), so any number of
coders per face and missing codings are handled; percent agreement is the share of agreeing
coder pairs, averaged over faces with at least two coders. Both come with a percentile bootstrap
interval over faces (the unit that was sampled). The coder `adjudicated` settles disagreements
and is never counted as a coder here.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select

from postercensus.catalog import schema
from postercensus.catalog.schema import ADJUDICATOR, LabelPurpose

AGREEMENT_COLUMNS = ["purpose", "faces", "coders", "codings", "alpha", "alpha_low", "alpha_high", "percent",
                     "percent_low", "percent_high", "disagreements", "settled"]
BOOTSTRAP_DRAWS = 2000
BOOTSTRAP_SEED = 0


@dataclass(frozen=True)
class Agreement:
    """Agreement of one purpose's codings; alpha is None when it is undefined (fewer than two
    faces with two coders, or every coding the same label: nothing to tell chance from skill)."""

    purpose: str
    faces: int  # faces coded by at least two coders (the pairable units)
    coders: int
    codings: int  # pairable codings
    alpha: float | None
    alpha_low: float | None
    alpha_high: float | None
    percent: float | None
    percent_low: float | None
    percent_high: float | None
    disagreements: int  # faces whose coders do not all agree
    settled: int  # of those, faces the coder `adjudicated` has labelled: no longer to adjudicate

    def as_row(self) -> dict[str, object]:
        return self.__dict__.copy()


def _unit_tables(codings: pd.DataFrame, categories: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pairable face: its coincidences (K×K, flattened), agreeing pairs and pairs."""
    index = {category: i for i, category in enumerate(categories)}
    k = len(categories)
    coincidences, agreeing, pairs = [], [], []
    for _, group in codings.groupby("face", sort=True):
        values = [index[label] for label in group["label"]]
        m = len(values)
        if m < 2:
            continue
        counts = np.bincount(values, minlength=k).astype(float)
        # o_ck += (pairs of values c, k from different coders) / (m - 1)
        table = (np.outer(counts, counts) - np.diag(counts)) / (m - 1)
        coincidences.append(table.ravel())
        agreeing.append(sum(a == b for a, b in combinations(values, 2)))
        pairs.append(m * (m - 1) / 2)
    if not coincidences:
        return np.zeros((0, k * k)), np.zeros(0), np.zeros(0)
    return np.array(coincidences), np.array(agreeing, float), np.array(pairs, float)


def alpha_from_coincidences(coincidences: np.ndarray) -> float | None:
    """Nominal alpha = 1 - (n - 1) * sum_{c != k} o_ck / sum_{c != k} n_c n_k."""
    o = np.asarray(coincidences, float)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    off_diagonal = ~np.eye(len(o), dtype=bool)
    expected = (np.outer(n_c, n_c))[off_diagonal].sum()
    if n <= 1 or expected == 0:
        return None
    return float(1.0 - (n - 1) * o[off_diagonal].sum() / expected)


def krippendorff_alpha(codings: pd.DataFrame) -> float | None:
    """Nominal alpha of codings with columns face, coder, label (adjudications left out)."""
    coded = codings[codings["coder"] != ADJUDICATOR]
    categories = sorted(coded["label"].unique())
    units, _, _ = _unit_tables(coded, categories)
    if len(units) == 0:
        return None
    return alpha_from_coincidences(units.sum(axis=0).reshape(len(categories), len(categories)))


def agreement(codings: pd.DataFrame, purpose: str, draws: int = BOOTSTRAP_DRAWS,
              seed: int = BOOTSTRAP_SEED) -> Agreement:
    """Alpha and percent agreement of one purpose's codings (columns face, coder, label), with
    95 % percentile bootstrap intervals from resampling faces with replacement."""
    coded = codings[codings["coder"] != ADJUDICATOR]
    categories = sorted(coded["label"].unique())
    k = len(categories)
    units, agreeing, pairs = _unit_tables(coded, categories)
    pairable = coded[coded["face"].isin(_pairable_faces(coded))]
    if len(units) == 0:
        return Agreement(purpose, 0, int(coded["coder"].nunique()), 0, None, None, None, None, None, None, 0, 0)
    alpha = alpha_from_coincidences(units.sum(axis=0).reshape(k, k))
    shares = agreeing / pairs
    percent = float(shares.mean())
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(len(units), np.full(len(units), 1 / len(units)), size=draws)  # faces resampled
    boot_alpha = [alpha_from_coincidences(row.reshape(k, k)) for row in weights @ units]
    boot_alpha = np.array([np.nan if value is None else value for value in boot_alpha])
    boot_percent = weights @ shares / len(units)
    low, high = (None, None)
    if alpha is not None and np.isfinite(boot_alpha).any():
        low, high = (float(v) for v in np.nanpercentile(boot_alpha, [2.5, 97.5]))
    p_low, p_high = (float(v) for v in np.percentile(boot_percent, [2.5, 97.5]))
    disagreeing = np.array(sorted(_pairable_faces(coded)))[shares < 1]  # _unit_tables' face order
    settled = int(np.isin(disagreeing, codings.loc[codings["coder"] == ADJUDICATOR, "face"]).sum())
    return Agreement(purpose, len(units), int(pairable["coder"].nunique()), len(pairable), alpha, low, high,
                     percent, p_low, p_high, len(disagreeing), settled)


def _pairable_faces(coded: pd.DataFrame) -> list[int]:
    counts = coded.groupby("face")["coder"].nunique()
    return counts[counts >= 2].index.tolist()


def disagreements(codings: pd.DataFrame) -> pd.DataFrame:
    """Faces still to adjudicate: their coders (adjudicator left out) gave different labels and the
    coder `adjudicated` has not labelled them for that purpose yet. Settled faces are left out, so
    the adjudication sheet never asks for them again (`Agreement.settled` counts them). Columns
    face, purpose, codings ("ann: female; bob: male")."""
    rows = []
    for (purpose, face), group in codings.groupby(["purpose", "face"], sort=True):
        coded = group[group["coder"] != ADJUDICATOR].sort_values("coder")
        if coded["label"].nunique() < 2 or (group["coder"] == ADJUDICATOR).any():
            continue
        rows.append({"face": int(face), "purpose": purpose,
                     "codings": "; ".join(f"{c}: {label}" for c, label in zip(coded["coder"], coded["label"]))})
    return pd.DataFrame(rows, columns=["face", "purpose", "codings"])


def stored_codings(engine: Engine) -> pd.DataFrame:
    """Every hand label: columns face, coder, label, purpose, labelled_at."""
    labels = schema.face_labels
    with engine.connect() as connection:
        rows = connection.execute(select(labels.c.face_id.label("face"), labels.c.labelled_by.label("coder"),
                                         labels.c.label, labels.c.purpose, labels.c.labelled_at)
                                  .order_by(labels.c.face_id, labels.c.labelled_by)).all()
    return pd.DataFrame([row._asdict() for row in rows], columns=["face", "coder", "label", "purpose", "labelled_at"])


def coding_agreement(engine: Engine, draws: int = BOOTSTRAP_DRAWS) -> list[Agreement]:
    """Agreement per purpose (validation first) where two or more coders labelled the same faces."""
    codings = stored_codings(engine)
    found = []
    for purpose in sorted(LabelPurpose.ALL, key=lambda p: p != LabelPurpose.VALIDATION):
        result = agreement(codings[codings["purpose"] == purpose], purpose, draws)
        if result.faces:
            found.append(result)
    return found


def agreement_line(result: Agreement) -> str:
    """One line for `status`: alpha and percent agreement with their intervals, and the disagreeing
    faces still to adjudicate (those the coder `adjudicated` settled are counted apart)."""
    def interval(value: float | None, low: float | None, high: float | None) -> str:
        if value is None:
            return "undefined (one label only)"
        return f"{value:.3f}" + ("" if low is None else f" (95 % interval {low:.3f}–{high:.3f})")

    return (f"{result.purpose} labels: {result.faces} faces coded by two or more of {result.coders} coders; "
            f"Krippendorff's alpha {interval(result.alpha, result.alpha_low, result.alpha_high)}, "
            f"agreement {interval(result.percent, result.percent_low, result.percent_high)}; "
            f"{result.disagreements - result.settled} to adjudicate, {result.settled} settled")


def agreement_summary(engine: Engine) -> list[dict[str, object]]:
    """`coding_agreement` as plain rows for `status --json`, each with the line `status` prints."""
    return [{**result.as_row(), "line": agreement_line(result)} for result in coding_agreement(engine)]


def agreement_table(engine: Engine) -> pd.DataFrame:
    """`coding_agreement` as a frame (coding_agreement.csv); no rows before two coders share a face."""
    return pd.DataFrame([result.as_row() for result in coding_agreement(engine)], columns=AGREEMENT_COLUMNS)
