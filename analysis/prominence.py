"""How prominent each face is on its poster, and who is prominent: shares by face, by face area and
of the largest face, each corrected with the selection's one confusion.

Studies of gender in images weigh prominence (cover studies, news photos, screen time): a poster of
one large woman and three small men is not "75 % men" to its viewer. Everything here is computed from
what the catalogue stores (each face's box and the upright size of the image it was found in), never
by detecting again, so the measures follow the active face set.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from postercensus.analysis.filters import Filters
from postercensus.analysis.load import Tables
from postercensus.analysis.selection import Selection, select
from postercensus.analysis.weighted_shares import effective_size, weighted_estimate

PROMINENCE_COLUMNS = ["area_share", "prominence_rank", "centrality"]
PROMINENCE_TABLE_COLUMNS = ["measure", "label", "faces", "effective_faces", "corrected_share", "ci_low", "ci_high"]
MEASURES = ("faces", "area_weighted", "largest_face")
SIZE_RATIO_COLUMNS = ["numerator", "denominator", "numerator_faces", "denominator_faces", "posters", "ratio",
                      "ci_low", "ci_high"]
N_BOOT = 2000
LEVEL = 0.95


def face_prominence(faces: pd.DataFrame) -> pd.DataFrame:
    """`faces` (item_id, face_id, left, top, right, bottom, image_width, image_height) with the three
    prominence columns added, in the same row order.

    area_share: box area ÷ image area, the box as stored (NaN where the scan stored no image size).
    prominence_rank: 1 for the largest face of its item, by area_share (then pixel area where the
    item has no image size); ties go to the face higher up, then further left, then the lower face
    id, so the rank never depends on row order. centrality: the box centre's distance from the image
    centre in half-widths and half-heights, ÷ √2: 0 at the centre, 1 at a corner (clipped to 1 for a
    box whose centre lies outside the image).
    """
    width = faces["image_width"].astype(float)
    height = faces["image_height"].astype(float)
    sized = (width > 0) & (height > 0)
    width, height = width.where(sized), height.where(sized)  # 0 or missing: no size, NaN
    box_area = ((faces["right"] - faces["left"]).clip(lower=0) * (faces["bottom"] - faces["top"]).clip(lower=0))
    box_area = box_area.astype(float)
    area_share = box_area / (width * height)
    dx = ((faces["left"] + faces["right"]) / 2 - width / 2) / (width / 2)
    dy = ((faces["top"] + faces["bottom"]) / 2 - height / 2) / (height / 2)
    centrality = (np.hypot(dx, dy) / math.sqrt(2)).clip(upper=1.0)
    order = pd.DataFrame({"item_id": faces["item_id"].to_numpy(), "share": -area_share.fillna(-1).to_numpy(),
                          "area": -box_area.to_numpy(), "top": faces["top"].to_numpy(),
                          "left": faces["left"].to_numpy(), "face_id": faces["face_id"].to_numpy(),
                          "row": np.arange(len(faces))})
    order = order.sort_values(["item_id", "share", "area", "top", "left", "face_id"], kind="mergesort")
    rank = np.empty(len(faces), dtype=np.int64)
    rank[order["row"].to_numpy()] = order.groupby("item_id", sort=False).cumcount().to_numpy() + 1
    return faces.assign(area_share=area_share.to_numpy(), prominence_rank=rank, centrality=centrality.to_numpy())


def prominent_faces(selection: Selection) -> pd.DataFrame:
    """The selection's faces (`Selection.faces`) with their prominence columns."""
    return face_prominence(selection.faces)


def _counts(labels: pd.Series) -> dict[str, int]:
    return {str(label): int(count) for label, count in labels.dropna().value_counts().items()}


def _weighted_records(selection: Selection, faces: pd.DataFrame) -> list[dict]:
    """The area-weighted rows: each decided face with a known area share, weighted by it."""
    shares = selection.shares
    weighed = faces[faces["label"].notna() & faces["area_share"].notna()]
    counted = _counts(weighed["label"])
    rows = []
    estimate = None
    if shares.confusion is not None and len(weighed):
        column = {category: index for index, category in enumerate(shares.confusion.predicted)}
        try:
            estimate = weighted_estimate(weighed["label"].map(column).to_numpy(),
                                         weighed["area_share"].to_numpy(dtype=float), shares.confusion,
                                         n_boot=N_BOOT, level=LEVEL)
        except ValueError:  # a confusion that cannot separate the labels: unknown, as in every share
            estimate = None
    for label in shares.categories:
        corrected = {name: getattr(estimate, name).get(label, math.nan) if estimate else math.nan
                     for name in ("corrected_share", "ci_low", "ci_high")}
        rows.append({"measure": "area_weighted", "label": label, "faces": counted.get(label, 0),
                     "effective_faces": effective_size(weighed["area_share"].to_numpy(dtype=float)), **corrected})
    return rows


def prominence(tables: Tables, filters: Filters = Filters()) -> pd.DataFrame:
    """prominence.csv: per measure × category, the faces counted and the corrected share with its 95 %
    interval. `faces` counts every decided face (by_gender's shares); `area_weighted` weighs each by
    its area_share (`analysis.weighted_shares`; effective_faces is what its interval rests on);
    `largest_face` counts only each poster's rank-1 face ("who is the protagonist"). effective_faces
    is the face count itself for the unweighted measures."""
    selection = select(tables, filters)
    if selection.card is None:
        return pd.DataFrame(columns=PROMINENCE_TABLE_COLUMNS)
    faces = prominent_faces(selection)
    records = []
    for measure, counts in (("faces", selection.item_faces.counts()),
                            ("largest_face", _counts(faces.loc[faces["prominence_rank"].eq(1), "label"]))):
        decided = sum(counts.get(label, 0) for label in selection.shares.categories)
        records += [{"measure": measure, **row, "effective_faces": float(decided)}
                    for row in selection.shares.records(counts)]
    records += _weighted_records(selection, faces)
    frame = pd.DataFrame(records)
    frame["measure"] = pd.Categorical(frame["measure"], MEASURES, ordered=True)
    frame = frame.sort_values("measure", kind="mergesort").assign(measure=lambda f: f["measure"].astype(str))
    return frame[PROMINENCE_TABLE_COLUMNS].reset_index(drop=True)


def _ratio_labels(labels: list[str]) -> tuple[str, str]:
    """female over male where the model has both, else its first label over its second."""
    return ("female", "male") if {"female", "male"} <= set(labels) else (labels[0], labels[1])


def size_ratio(tables: Tables, filters: Filters = Filters(), n_boot: int = N_BOOT, seed: int = 0) -> pd.DataFrame:
    """size_ratio.csv: mean area_share of faces perceived (decided) female ÷ of faces perceived male,
    with a 95 % percentile interval from resampling posters (a poster's faces are not independent:
    one designer sized them together).

    The labels are the model's decisions, not corrected: misclassification mixes the two groups and
    pulls the ratio towards 1, so the ratio understates a real difference (the docs say so). The
    interval is NaN where no poster has faces of both labels; ci_high NaN where some resample has no
    face of the denominator's label (the ratio is then unbounded above).
    """
    selection = select(tables, filters)
    if selection.card is None or len(selection.labels) < 2:
        return pd.DataFrame(columns=SIZE_RATIO_COLUMNS)
    numerator, denominator = _ratio_labels(selection.labels)
    faces = prominent_faces(selection)
    faces = faces[faces["label"].isin([numerator, denominator]) & faces["area_share"].notna()]
    items, rows = np.unique(faces["item_id"].to_numpy(), return_inverse=True)
    sums = np.zeros((len(items), 4))  # per poster: numerator's area, faces; denominator's area, faces
    for offset, label in ((0, numerator), (2, denominator)):
        mine = faces["label"].eq(label).to_numpy()
        sums[:, offset] = np.bincount(rows[mine], weights=faces["area_share"].to_numpy()[mine], minlength=len(items))
        sums[:, offset + 1] = np.bincount(rows[mine], minlength=len(items))
    total = sums.sum(axis=0)
    ratio = low = high = math.nan
    if total[1] and total[3]:
        ratio = (total[0] / total[1]) / (total[2] / total[3])
        rng = np.random.default_rng(seed)
        resampled = rng.multinomial(len(items), np.full(len(items), 1 / len(items)), size=n_boot) @ sums
        with np.errstate(divide="ignore", invalid="ignore"):
            replicates = (resampled[:, 0] / resampled[:, 1]) / (resampled[:, 2] / resampled[:, 3])
        tail = (1 - LEVEL) / 2
        low = float(min(np.quantile(np.where(np.isnan(replicates), 0.0, replicates), tail), ratio))
        upper = np.quantile(np.where(np.isnan(replicates), np.inf, replicates), 1 - tail)
        high = float(max(upper, ratio)) if np.isfinite(upper) else math.nan
    return pd.DataFrame([{"numerator": numerator, "denominator": denominator, "numerator_faces": int(total[1]),
                          "denominator_faces": int(total[3]), "posters": len(items), "ratio": ratio,
                          "ci_low": low, "ci_high": high}], columns=SIZE_RATIO_COLUMNS)
