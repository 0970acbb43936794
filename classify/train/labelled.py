"""A labelled folder (`FOLDER/<label>/*.jpg`) as (file, label, group) rows, checked before any work.

The group is what must never sit on both sides of a split: faces cut from one poster share
lighting, artist and often the same drawn person, so a split by face would leak and flatter the
model. File names `<poster id>_<n>.jpg` (the NK crops' convention) group by poster id; any other
file is its own group.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from postercensus.catalog.imagefiles import IMAGE_SUFFIXES
from postercensus.catalog.stage import StageError

_POSTER_FACE_NAME = re.compile(r"^(?P<poster>.+)_\d+$")


class LabelledDataError(StageError, ValueError):
    """The labelled data cannot train or evaluate a classifier; the message says how to fix it."""


@dataclass(frozen=True)
class LabelledFile:
    path: Path
    label: str
    group: str


def group_of(path: Path) -> str:
    """`<poster id>` for `<poster id>_<n>.jpg`, else the file name itself."""
    match = _POSTER_FACE_NAME.match(path.stem)
    return match.group("poster") if match else path.name


def list_labelled_files(folder: Path) -> list[LabelledFile]:
    """Every image under `folder/<label>/`, sorted; errors for a missing folder or an empty label."""
    if not folder.is_dir():
        raise LabelledDataError(f"{folder} is not a folder; expected FOLDER/<label>/*.jpg")
    rows: list[LabelledFile] = []
    label_folders = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not label_folders:
        raise LabelledDataError(f"{folder} has no label folders; put images in {folder}/<label>/, e.g. {folder}/female/")
    for label_folder in label_folders:
        files = sorted(p for p in label_folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise LabelledDataError(
                f"the label folder {label_folder} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}); "
                "add some or remove the folder"
            )
        rows.extend(LabelledFile(path, label_folder.name, group_of(path)) for path in files)
    return rows


def check_label_set(labels: list[str], where: str) -> tuple[str, ...]:
    """The sorted label set, which must have at least two labels to learn anything."""
    distinct = tuple(sorted(set(labels)))
    if len(distinct) < 2:
        found = distinct[0] if distinct else "none"
        raise LabelledDataError(
            f"{where} has a single label ({found}); a classifier needs at least two, e.g. female/ and male/"
        )
    return distinct
