"""The scene paintings' hand-boxed faces (../shared/data/painting-faces): who painted each, and box overlap.

The painter is the grouping unit for cross-validation (a setting is never judged on a painter it
was chosen on), so the recipe's `scenes` calibration and the face benchmarks key faces the same
way (`painter_of`); a detection matches a hand box at an intersection over union of 0.3, as hand
boxes are looser than any detector's.
"""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from postercensus.classify.recipes.data import DATA

PAINTINGS = DATA / "painting-faces"
MATCH_IOU = 0.3

# Keys the rules below get wrong, checked by hand over all 463 names: three slugs that spell
# one painter two ways, and one `_-_` name that puts the given names first.
PAINTER_ALIASES = {
    "arthur-timotheo-da-costa": "arthur-timoteo-da-costa",
    "decio-vilares": "decio-villares",
    "julio-vila-y-prades": "julio-vila-prades",
    "emil-jean-horace": "vernet",
}
PARTICLES = {"van", "von", "de", "da", "di", "del", "della", "le", "la"}


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def painter_of(file_name: str) -> str:
    """The painter's key in the three naming schemes the set uses.

    * `Given_Surname_12.jpg` (WikiArt style: `Diego_Velazquez_25`, `El_Greco_3`, `Titian_7`):
      the last word before the number, lower-cased (`velazquez`, `greco`, `titian`);
    * `Surname_Given_-_Title.jpg` (`Renoir_Pierre-Auguste_-_Boy_with_a_Whip`,
      `Titian_(Tiziano_Vecellio)_-_…`): the first word, so both schemes give one key per
      painter (`renoir`, `titian`, `caravaggio`, `rembrandt`, `rubens`, `gauguin`, `picasso`;
      a leading particle keeps its noun: `Van_Dongen_Kees` → `van-dongen`);
    * `painter-slug_title-slug.jpg` (the Brazilian collection: `jose-correia-de-lima_retrato-…`):
      the slug before the first underscore. `anonimo` (six unattributed works) is one group.

    PAINTER_ALIASES then fixes the four keys these rules get wrong. Result: 133 painters.
    """
    original = Path(file_name).stem
    stem = _plain(original)
    numbered = re.fullmatch(r"(.+)_\d+", stem)
    if "_-_" in stem:
        words = re.split(r"[_(]", stem.split("_-_")[0])
        key = "-".join(words[:2]) if words[0] in PARTICLES else words[0]
    elif numbered and original[:1].isupper():
        key = numbered.group(1).split("_")[-1]
    else:
        key = stem.split("_")[0]
    return PAINTER_ALIASES.get(key, key)


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
