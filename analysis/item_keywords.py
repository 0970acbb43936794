"""Which items carry which keyword: the items' keyword lists exploded once, not once per question.

Filters check a keyword against every keyword of the catalogue and keep the items carrying it; the
keyword tables rank the selection's keywords and count the faces of each one's items. At 100,000
items exploding the lists costs tens of milliseconds and a set of every keyword a hundred, so the
catalogue's pairs are made once per loaded items frame (`catalogue_keywords`) and a selection's
are taken from them (`within`).
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
    """One row per keyword of an item, in the items' order: `position` (the item's row in the frame
    the pairs were made from), `item_id` and `keyword`. Items without keywords have no row."""

    pairs: pd.DataFrame
    rows: int  # how many items the pairs were made from (the length of a mask over them)

    @cached_property
    def known(self) -> frozenset[str]:
        """Every keyword the items carry."""
        return frozenset(self.pairs["keyword"])

    @classmethod
    def of(cls, items: pd.DataFrame) -> ItemKeywords:
        """The pairs of an items frame (columns item_id and keywords, a list per item)."""
        pairs = pd.DataFrame({"position": np.arange(len(items)), "item_id": items["item_id"].to_numpy(),
                              "keyword": items["keywords"].to_numpy()})
        pairs = pairs.explode("keyword", ignore_index=True).dropna(subset=["keyword"])
        return cls(pairs.reset_index(drop=True), len(items))

    def within(self, item_ids: pd.Series) -> ItemKeywords:
        """The pairs of these items (a subset of the pairs' items, in the same order; positions
        stay those of the frame the pairs were made from)."""
        return ItemKeywords(self.pairs[self.pairs["item_id"].isin(item_ids)].reset_index(drop=True), self.rows)

    def carrying_any(self, keywords: Iterable[str]) -> np.ndarray:
        """A mask over the items: whether each carries any of `keywords`."""
        mask = np.zeros(self.rows, dtype=bool)
        mask[self.pairs.loc[self.pairs["keyword"].isin(set(keywords)), "position"].to_numpy()] = True
        return mask

    def top(self, top_n: int) -> pd.Series:
        """keyword → items, the top_n by items (ties alphabetically, so the choice is stable)."""
        counts = self.pairs["keyword"].value_counts().rename("items").reset_index()
        counts.columns = ["keyword", "items"]
        counts = counts.sort_values(["items", "keyword"], ascending=[False, True]).head(top_n)
        return counts.set_index("keyword")["items"]

    def carrying(self, keywords: Iterable[str]) -> dict[str, pd.Series]:
        """keyword → the ids of the items that carry it, for many keywords in one pass."""
        keywords = list(keywords)
        wanted = self.pairs[self.pairs["keyword"].isin(keywords)]
        found = dict(list(wanted.groupby("keyword")["item_id"]))
        return {keyword: found.get(keyword, self.pairs["item_id"].iloc[0:0]) for keyword in keywords}


def catalogue_keywords(tables: Tables) -> ItemKeywords:
    """The pairs of `tables.items`, made once per items frame and kept on the tables (read-only)."""
    kept = tables.derived.get("keywords")
    if kept is None or kept[0] is not tables.items:  # not made yet, or the frame was replaced since
        kept = (tables.items, ItemKeywords.of(tables.items))
        tables.derived["keywords"] = kept
    return kept[1]
