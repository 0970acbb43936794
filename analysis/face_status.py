"""Whether an item's faces were looked for at all, in the face set analysis reads.

An item without a face found is only evidence of "no face" when one of its images was scanned:
a poster whose image was never stored, not scanned yet or could not be decoded says nothing about
faces. Every face table counts only `scanned` items in its shares and the others apart, so a
catalogue of 947 posters with 7 images never reads as 940 posters without a face.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from postercensus.catalog.schema import FaceScanStatus

SCANNED = "scanned"  # at least one stored image scanned ok with the face set
NOT_SCANNED = "not_scanned"  # images stored, none scanned ok and at least one not scanned yet
FAILED = "failed"  # every stored image was scanned and failed to decode
NO_IMAGE = "no_image"  # no stored image (none listed, or none fetched: pending, failed, missing)
UNSCANNED = (NOT_SCANNED, FAILED, NO_IMAGE)  # counted in their own rows, never in a share
FACE_STATUSES = (SCANNED, *UNSCANNED)


def item_face_statuses(item_ids: pd.Series, stored: pd.DataFrame, scans: pd.DataFrame) -> pd.Series:
    """item_id → face status.

    stored: (item_id, sha256) of every stored image; scans: (sha256, status) of the face set's
    scans (empty when there is no face set yet, making every stored image not scanned).
    """
    statuses = pd.Series(NO_IMAGE, index=pd.Index(item_ids, name="item_id"), dtype=object)
    if stored.empty:
        return statuses
    scan_status = scans.set_index("sha256")["status"] if not scans.empty else pd.Series(dtype=object)
    images = stored.assign(status=stored["sha256"].map(scan_status))
    images = images.assign(ok=images["status"].eq(FaceScanStatus.OK), unscanned=images["status"].isna())
    per_item = images.groupby("item_id")[["ok", "unscanned"]].any()
    per_item = per_item[per_item.index.isin(statuses.index)]
    statuses[per_item.index] = np.select([per_item["ok"], per_item["unscanned"]], [SCANNED, NOT_SCANNED], FAILED)
    return statuses

