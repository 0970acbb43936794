"""Gendered phrases of a CSV column → a phrases CSV, without a catalogue (`text phrases`).

For a spreadsheet a researcher already has: one output row per mention, keyed by the row's id.
The output is streamed to OUT.part and renamed over OUT at the end, so a large file is never held
in memory and an interrupted run never leaves a half-written OUT in place of a finished one. It
keeps no run record, but reports as every stage does (`catalog.stage.StageReport`).
"""
from __future__ import annotations

import csv
import itertools
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from postercensus.catalog.runs import RunStatus
from postercensus.catalog.stage import Progress, StageReport
from postercensus.text.pipeline import TextPipeline

PHRASE_COLUMNS = ["id", "gender", "trigger", "role", "role_lemma", "category", "start", "end", "sentence"]
TITLE_COLUMN = "in_title"


class MissingColumn(ValueError):
    """The CSV lacks a column the caller named; `name` is that column, `header` the columns it has."""

    def __init__(self, path: Path, name: str, header: list[str]) -> None:
        super().__init__(f"{path} has no column {name!r}; its columns: {', '.join(header)}")
        self.name = name
        self.header = header


NAME = "text phrases"


@dataclass(frozen=True)
class PhrasesFacts:
    """Where the phrases were written, and the mentions written per gender (also counted as
    `mentions_<gender>`, beside `rows` read and `mentions` written; per-row warnings are the errors)."""

    out: Path
    genders: Counter[str] = field(default_factory=Counter)


PhrasesReport = StageReport[PhrasesFacts]


def check_columns(path: Path, column: str, id_column: str | None = None) -> None:
    """MissingColumn for the first of `column`, `id_column` the CSV lacks: checked before any
    output is written (a wrong name would otherwise give an empty, plausible-looking file)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle), [])
    for name in (column, id_column):
        if name is not None and name not in header:
            raise MissingColumn(path, name, header)


def csv_rows(path: Path, column: str, id_column: str | None = None) -> Iterator[tuple[str, str | None]]:
    """(id, text) per data row; the id is the id column's value (if empty, or no id column: the 1-based row number)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=1):
            yield (row.get(id_column) or str(number)) if id_column else str(number), row.get(column)


def count_rows(path: Path) -> int:
    """Data rows in the CSV (a progress bar's total)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return sum(1 for _ in csv.DictReader(handle))


def write_phrases(pipeline: TextPipeline, path: Path, column: str, out: Path, id_column: str | None = None,
                  include_titles: bool = False, advance: Progress | None = None) -> PhrasesReport:
    """Write one row per mention in `column` of the CSV at `path` to `out` (PHRASE_COLUMNS, plus
    in_title with `include_titles`; else mentions inside quoted titles of works are left out).

    start and end are character offsets of the trigger in the cleaned text (boilerplate
    removed). `advance(1)` is called after each row. Raises MissingColumn before writing anything.
    """
    check_columns(path, column, id_column)
    columns = PHRASE_COLUMNS + ([TITLE_COLUMN] if include_titles else [])
    report = PhrasesReport(NAME, RunStatus.RUNNING, {"rows": 0, "mentions": 0}, facts=PhrasesFacts(out))
    partial = out.with_name(out.name + ".part")
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        with partial.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            texts, ids = itertools.tee(csv_rows(path, column, id_column))
            for (row_id, _), result in zip(ids, pipeline.process(text for _, text in texts)):
                report.count("rows")
                if result.warning:
                    report.errors.append(f"row {row_id}: {result.warning}")
                for mention in result.mentions:
                    if mention.in_title and not include_titles:
                        continue
                    report.facts.genders[mention.gender] += 1
                    report.count("mentions")
                    report.count(f"mentions_{mention.gender}")
                    writer.writerow({"id": row_id, **{name: getattr(mention, name) for name in columns[1:]}})
                if advance:
                    advance(1)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    report.status = RunStatus.PARTIAL if report.errors else RunStatus.OK
    return report
