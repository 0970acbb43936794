"""The published form of the analysis: tidy CSVs, the codebook naming every column, and provenance.

A CSV without its codebook and its provenance (which runs, which detector settings, which model and
how good it was) cannot be cited, so the three are always written together, each file atomically.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from postercensus.analysis import face_tables, prominence, text_tables
from postercensus.analysis.codebook import codebook_markdown, undocumented
from postercensus.analysis.filters import Filters, at_threshold, select_items
from postercensus.analysis.load import MENTION_COLUMNS, Tables
from postercensus.analysis.prominence import PROMINENCE_COLUMNS
from postercensus.analysis.selection import select
from postercensus.catalog import __version__
from postercensus.catalog.atomicwrite import write_atomically

FACE_EXPORT_COLUMNS = ["face_row", "face_id", "item_id", "image_path", "image_width", "image_height", "left", "top",
                       "right", "bottom", *PROMINENCE_COLUMNS, "parameter_hash", "model_id", "model_version", "label", "top_label",
                       "probability", "margin", "human_label"]
TABLES: dict[str, Callable[[Tables, Filters], pd.DataFrame]] = {
    "by_gender.csv": face_tables.by_gender,
    "composition.csv": face_tables.composition,
    "by_year.csv": face_tables.by_year,
    "by_decade.csv": face_tables.by_decade,
    "by_keyword.csv": face_tables.by_keyword,
    "mentions_by_gender.csv": text_tables.mentions_by_gender,
    "mentions_by_role.csv": text_tables.mentions_by_role,
    "mentions_by_year.csv": text_tables.mentions_by_year,
    "mentions_by_keyword.csv": text_tables.mentions_by_keyword,
    "agreement.csv": text_tables.agreement,
    "agreement_summary.csv": text_tables.agreement_summary,
    "prominence.csv": prominence.prominence,
    "size_ratio.csv": prominence.size_ratio,
    "coding_agreement.csv": lambda tables, filters: tables.coding_agreement,  # of every hand label: no filter applies
}

PROVENANCE_FILE = "provenance.json"  # written last: an export without it is unfinished


def face_rows(faces: pd.DataFrame) -> pd.Series:
    """Each row's key in faces.csv, "<item_id>-<face_id>".

    face_id alone is no join key: faces are stored per image content, so two items whose images
    have identical bytes show the same face, one row each. A selection has one row per face × item
    (one model's prediction), so the pair is unique, and it stays the same from export to export.
    """
    return faces["item_id"].astype("int64").astype(str) + "-" + faces["face_id"].astype("int64").astype(str)


def record_frames(tables: Tables, filters: Filters = Filters()) -> dict[str, pd.DataFrame]:
    """The filtered records by file name (items.csv, faces.csv, mentions.csv), in the export's columns."""
    items = select_items(tables.items, filters)
    faces = prominence.face_prominence(select(tables, filters).faces)  # area_share, prominence_rank, centrality
    return {
        "items.csv": items,
        "faces.csv": faces.assign(face_row=face_rows(faces))[FACE_EXPORT_COLUMNS],
        "mentions.csv": tables.mentions.loc[tables.mentions["item_id"].isin(items["item_id"]), MENTION_COLUMNS],
    }


def frames(tables: Tables, filters: Filters = Filters()) -> dict[str, pd.DataFrame]:
    """Every exported file's frame by file name: the filtered records, then the tables."""
    return record_frames(tables, filters) | {name: table(tables, filters) for name, table in TABLES.items()}


def _csv(frame: pd.DataFrame) -> bytes:
    """Tidy UTF-8 CSV: lists joined with "; ", missing values as empty cells."""
    lists = [column for column in frame.columns  # only an object column can hold a list
             if frame[column].dtype == object and frame[column].map(lambda value: isinstance(value, list)).any()]
    frame = frame.assign(**{column: frame[column].map("; ".join) for column in lists})
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def provenance(tables: Tables, filters: Filters, exported_at: datetime) -> dict[str, Any]:
    """provenance.json: the version, filters and decision threshold, and the catalogue's record of
    the runs, face set, models (with their evaluation), text version and sources behind the tables;
    a demo home's record opens with its banner. The threshold is the one the tables were decided at
    (the home's `[classify] threshold` when the filters name none)."""
    filters = at_threshold(filters, tables.threshold)
    selection = select(tables, filters)
    model_id = selection.model_id
    banner = {"banner": tables.demo_banner} if tables.demo_banner else {}
    # which confusion corrected the tables' shares: the card's domain, or this collection's validation sample
    used = selection.shares.correction if model_id is not None else None
    correction = {"correction": used.to_dict()} if used is not None else {}
    return {
        **banner,
        "postercensus_version": __version__,
        "exported_at": exported_at.isoformat(timespec="seconds"),
        "filters": asdict(filters),
        "model_id": model_id,
        "min_probability": filters.min_probability,
        **tables.provenance,
        **correction,
    }


def export(tables: Tables, outdir: Path, filters: Filters = Filters()) -> list[Path]:
    """Write every table as CSV, codebook.md and provenance.json into `outdir`; returns the paths."""
    outdir = Path(outdir)
    written: dict[str, list[str]] = {}
    paths = []
    for name, frame in frames(tables, filters).items():
        missing = undocumented(name, list(frame.columns))
        if missing:
            raise KeyError(f"{name}: the codebook does not describe {missing}")
        write_atomically(outdir / name, _csv(frame))
        written[name] = list(frame.columns)
        paths.append(outdir / name)
    models = tables.provenance.get("models", {})
    corrected_with = {model_id: model["calibration"]["corrected_with"] for model_id, model in models.items()
                      if model.get("calibration", {}).get("corrected_with")}
    record = provenance(tables, filters, datetime.now(timezone.utc))
    used = record.get("correction")  # the tables' model: the confusion its shares were corrected with
    if used and used["source"] == "validation":
        corrected_with[record["model_id"]] = used["description"]
    elif used and used["note"] and record["model_id"] in corrected_with:  # validation labels it could not use
        corrected_with[record["model_id"]] += f"; {used['note']}"
    codebook = codebook_markdown(written, tables.demo_banner, corrected_with)
    write_atomically(outdir / "codebook.md", codebook.encode("utf-8"))
    write_atomically(outdir / PROVENANCE_FILE, json.dumps(record, indent=2, default=str).encode("utf-8"))
    return [*paths, outdir / "codebook.md", outdir / PROVENANCE_FILE]
