"""Which items carry which keyword: the items' keyword lists exploded once, not once per question.

Filters check a keyword against every keyword of the catalogue and keep the items carrying it; the
keyword tables rank the selection's keywords and count the faces of each one's items. At 100,000
items exploding the lists, or grouping their text, costs tens of milliseconds each time, so the
catalogue's pairs are made once per loaded items frame (`catalogue_keywords`), each keyword
numbered, and a selection's pairs are taken from them (`within`).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from postercensus.analysis.load import Tables


@dataclass(frozen=True)
class ItemKeywords:
    """The (item, keyword) pairs of an items frame, one per keyword an item lists, in the items'
    order: `rows[j]` the row of pair j's item in the frame, `item_ids[j]` its id, `codes[j]` its
    keyword as a position in `names`. `size` is the frame's length (of any mask over its items)."""

    rows: np.ndarray
    item_ids: np.ndarray
    codes: np.ndarray
    names: pd.Index
    size: int

    @classmethod
    def of(cls, items: pd.DataFrame) -> ItemKeywords:
        """The pairs of an items frame (columns item_id, and keywords: a list per item)."""
        keywords = pd.Series(items["keywords"].to_numpy(), index=np.arange(len(items))).explode().dropna()
        rows = keywords.index.to_numpy(dtype=np.int64)
        codes, names = pd.factorize(keywords)
        return cls(rows, items["item_id"].to_numpy()[rows], codes, pd.Index(names), len(items))

    def within(self, item_rows: pd.Index) -> ItemKeywords:
        """The pairs of some of the items these pairs were made from, `item_rows` (item_id → row:
        their ids in their order), with their rows there."""
        rows = item_rows.get_indexer(self.item_ids)
        kept = rows >= 0
        return ItemKeywords(rows[kept], self.item_ids[kept], self.codes[kept], self.names, len(item_rows))

    @cached_property
    def known(self) -> frozenset[str]:
        """Every keyword the items carry."""
        return frozenset(self.names[np.unique(self.codes)])

    def carrying_any(self, keywords: Iterable[str]) -> np.ndarray:
        """A mask over the items: whether each carries any of `keywords`."""
        wanted = self.names.get_indexer(list(keywords))
        mask = np.zeros(self.size, dtype=bool)
        mask[self.rows[np.isin(self.codes, wanted[wanted >= 0])]] = True
        return mask

    def top(self, top_n: int) -> pd.Series:
        """keyword → items, the top_n by items (ties alphabetically, so the choice is stable)."""
        items = np.bincount(self.codes, minlength=len(self.names))
        counts = pd.DataFrame({"keyword": self.names[items > 0], "items": items[items > 0]})
        counts = counts.sort_values(["items", "keyword"], ascending=[False, True]).head(top_n)
        return counts.set_index("keyword")["items"]

    def carrying(self, keywords: Iterable[str]) -> dict[str, np.ndarray]:
        """keyword → a mask over the items: whether each carries it."""
        keywords = list(keywords)
        masks = {}
        for keyword, code in zip(keywords, self.names.get_indexer(keywords)):
            masks[keyword] = np.zeros(self.size, dtype=bool)
            masks[keyword][self.rows[self.codes == code]] = True
        return masks


def catalogue_keywords(tables: Tables) -> ItemKeywords:
    """The pairs of `tables.items`, made once per items frame and kept on the tables (read-only)."""
    kept = tables.derived.get("keywords")
    if kept is None or kept[0] is not tables.items:  # not made yet, or the frame was replaced since
        kept = (tables.items, ItemKeywords.of(tables.items))
        tables.derived["keywords"] = kept
    return kept[1]
