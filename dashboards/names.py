"""The words a reader sees for the identifiers of the analysis tables' categories.

The tables and CSVs keep identifiers (`no_face`, `only_female`, `text_only`) because programs
join and filter on them; a figure says them as a person would. All display names live in this
one mapping, so the page, the app and every figure agree, and a new category is one new entry.
A category without an entry still reads as words: `only_<label>` as "only <label> faces",
anything else with its underscores as spaces.
"""
from __future__ import annotations

ONLY_PREFIX = "only_"  # composition: `only_<label>` for each of the model's labels

DISPLAY_NAMES: dict[str, str] = {
    # composition: who a poster's faces show
    "no_face": "no face",
    "mixed": "mixed (two or more labels)",
    "only_uncertain": "only uncertain faces",
    # agreement: whether a poster's text and its faces show the same genders
    "agree": "text and faces agree",
    "disagree": "text and faces disagree",
    "text_only": "text only",
    "faces_only": "faces only",
    "neither": "neither shows a gender",
    # face status (analysis.face_status): posters counted apart, in no share
    "not_scanned": "not scanned yet",
    "failed": "image unreadable",
    "no_image": "no image",
}
# The categories of posters without a scanned image: drawn beside the others but in no share.
NOT_IN_SHARES = ("not_scanned", "failed", "no_image")


def display_name(category: str) -> str:
    """The reader's name for a category identifier (see the module docstring)."""
    if category in DISPLAY_NAMES:
        return DISPLAY_NAMES[category]
    if category.startswith(ONLY_PREFIX):
        return f"only {category.removeprefix(ONLY_PREFIX)} faces"
    return category.replace("_", " ")
