"""Hand labels to and from CSV, so research assistants can code faces in a spreadsheet.

A row names a face by `face_id`, or by `item` (the catalogue's item id) and its box (`left`,
`top`, `right`, `bottom` in the poster's pixels), and gives `label`, `coder` and `purpose`
(`validation` | `training`), optionally `sample`. The whole file is checked before anything is
stored: a file with any bad row imports nothing, and the error names every bad row. A row whose
label is empty is a face not coded yet (the template `export --sample` writes) and is counted,
not stored. Importing the same file again changes nothing.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, and_, func, select

from postercensus.catalog import schema
from postercensus.catalog.atomicwrite import write_atomically
from postercensus.catalog.runs import utcnow
from postercensus.catalog.schema import OTHER_LABEL, LabelPurpose
from postercensus.catalog.stage import StageError

BOX = ("left", "top", "right", "bottom")
COLUMNS = ("face_id", "item", *BOX, "label", "coder", "purpose", "sample", "labelled_at")
INFORMATION = ("crop", "codings")  # written for people (as is labelled_at), ignored on import
DEFAULT_LABELS = ("female", "male", OTHER_LABEL)


class LabelFileError(StageError, ValueError):
    """A label file that cannot be imported; nothing of it was stored."""


@dataclass(frozen=True)
class ImportReport:
    new: int
    replaced: int  # a coder's earlier label for the face and purpose, now another
    unchanged: int
    not_coded: int  # rows with an empty label

    def line(self) -> str:
        return (f"{self.new} new, {self.replaced} replaced, {self.unchanged} unchanged"
                + (f"; {self.not_coded} row(s) without a label not coded yet" if self.not_coded else ""))


def known_labels(engine: Engine) -> tuple[str, ...]:
    """The labels of every registered classifier plus `other`; female, male, other without one."""
    with engine.connect() as connection:
        sets = connection.execute(select(schema.classifier_models.c.labels)).scalars().all()
    labels = {label for label_set in sets for label in label_set}
    return tuple(sorted(labels | {OTHER_LABEL})) if labels else DEFAULT_LABELS


def _face_index(engine: Engine) -> tuple[set[int], dict[tuple[int, tuple[int, ...]], list[int]]]:
    """Every face id, and (item id, box) → face ids (a box may sit in several face sets)."""
    faces, images = schema.faces, schema.images
    with engine.connect() as connection:
        ids = set(connection.execute(select(faces.c.id)).scalars())
        rows = connection.execute(select(faces.c.id, images.c.item_id, faces.c.left, faces.c.top, faces.c.right,
                                         faces.c.bottom).distinct()
                                  .join(images, images.c.sha256 == faces.c.image_sha256)).all()
    by_box: dict[tuple[int, tuple[int, ...]], list[int]] = {}
    for row in rows:
        by_box.setdefault((row.item_id, (row.left, row.top, row.right, row.bottom)), []).append(row.id)
    return ids, by_box


def _memberships(engine: Engine) -> dict[int, list[str]]:
    members, samples = schema.validation_sample_faces, schema.validation_samples
    with engine.connect() as connection:
        rows = connection.execute(select(members.c.face_id, members.c.sample)
                                  .join(samples, samples.c.name == members.c.sample)
                                  .order_by(samples.c.created_at)).all()
    found: dict[int, list[str]] = {}
    for face_id, sample in rows:
        found.setdefault(face_id, []).append(sample)
    return found


def _integer(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a whole number") from None


def _read_rows(path: Path) -> list[dict[str, str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")  # spreadsheets often write a byte-order mark
    except (OSError, UnicodeDecodeError) as error:
        raise LabelFileError(f"cannot read {path} ({error})", "give a UTF-8 CSV file") from error
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    unknown = sorted(set(header) - set(COLUMNS) - set(INFORMATION))
    if unknown:
        raise LabelFileError(f"{path}: unknown column(s) {', '.join(unknown)}",
                             f"use {', '.join(COLUMNS)} (and optionally {', '.join(INFORMATION)})")
    missing = [c for c in ("label", "coder", "purpose") if c not in header]
    if missing or ("face_id" not in header and not {"item", *BOX} <= set(header)):
        raise LabelFileError(f"{path}: missing column(s) {', '.join(missing) or 'face_id (or item and the box)'}",
                             "a label file needs face_id (or item, left, top, right, bottom), label, coder, purpose")
    return [{key: (value or "").strip() for key, value in row.items() if key is not None} for row in reader]


def import_labels(engine: Engine, path: Path) -> ImportReport:
    """Check every row, then store them all in one transaction (or none: LabelFileError)."""
    rows = _read_rows(path)
    labels = set(known_labels(engine))
    ids, by_box = _face_index(engine)
    memberships = _memberships(engine)
    problems: list[str] = []
    checked: dict[tuple[int, str, str], tuple[int, str, str | None]] = {}  # key → (row, label, sample)
    not_coded = 0
    for number, row in enumerate(rows, start=2):  # row 1 is the header, as a spreadsheet numbers it
        try:
            if not row.get("label"):
                not_coded += 1
                continue
            face_id = _face_of(row, ids, by_box)
            label, coder, purpose = row["label"], row["coder"], row["purpose"]
            if label not in labels:
                raise ValueError(f"unknown label {label!r} (known: {', '.join(sorted(labels))})")
            if not coder:
                raise ValueError("no coder")
            if purpose not in LabelPurpose.ALL:
                raise ValueError(f"purpose must be {' or '.join(LabelPurpose.ALL)}, not {purpose!r}")
            sample = _sample_of(row.get("sample", ""), purpose, memberships.get(face_id, []), face_id)
            key = (face_id, coder, purpose)
            if key in checked and checked[key][1] != label:
                raise ValueError(f"row {checked[key][0]} gives face {face_id}, coder {coder}, {purpose} another label")
            checked[key] = (number, label, sample)
        except ValueError as error:
            problems.append(f"row {number}: {error}")
    if problems:
        shown = "; ".join(problems[:10]) + (f"; and {len(problems) - 10} more" if len(problems) > 10 else "")
        raise LabelFileError(f"{path}: {shown}", "fix those rows and import again (nothing was imported)")
    return _store(engine, {key: (label, sample) for key, (_, label, sample) in checked.items()}, not_coded)


def _face_of(row: dict[str, str], ids: set[int], by_box: dict) -> int:
    if row.get("face_id"):
        face_id = _integer(row["face_id"], "face_id")
        if face_id not in ids:
            raise ValueError(f"unknown face {face_id}")
        return face_id
    if not row.get("item"):
        raise ValueError("neither face_id nor item given")
    item = _integer(row["item"], "item")
    box = tuple(_integer(row.get(side, ""), side) for side in BOX)
    found = by_box.get((item, box), [])
    if len(found) != 1:
        raise ValueError(f"{'no' if not found else 'more than one'} face at item {item}, box {box}"
                         + ("; give face_id" if found else ""))
    return found[0]


def _sample_of(named: str, purpose: str, samples: list[str], face_id: int) -> str | None:
    if purpose == LabelPurpose.TRAINING:
        if named:
            raise ValueError("a training label belongs to no sample; leave sample empty or use purpose validation")
        return None
    if named:
        if named not in samples:
            raise ValueError(f"face {face_id} is not in validation sample {named!r}")
        return named
    if not samples:
        raise ValueError(f"face {face_id} is in no validation sample; draw one with `classify label --validate N`")
    return samples[0]


def _store(engine: Engine, rows: dict[tuple[int, str, str], tuple[str, str | None]], not_coded: int) -> ImportReport:
    labels = schema.face_labels
    new = replaced = unchanged = 0
    now = utcnow()
    with engine.begin() as connection:
        stored = {(r.face_id, r.labelled_by, r.purpose): r.label for r in connection.execute(
            select(labels.c.face_id, labels.c.labelled_by, labels.c.purpose, labels.c.label))}
        for (face_id, coder, purpose), (label, sample) in sorted(rows.items()):
            before = stored.get((face_id, coder, purpose))
            if before == label:
                unchanged += 1
            elif before is None:
                new += 1
                connection.execute(labels.insert().values(face_id=face_id, labelled_by=coder, purpose=purpose,
                                                          label=label, sample=sample, labelled_at=now))
            else:
                replaced += 1
                connection.execute(labels.update().where(and_(
                    labels.c.face_id == face_id, labels.c.labelled_by == coder, labels.c.purpose == purpose))
                    .values(label=label, sample=sample, labelled_at=now))
    return ImportReport(new, replaced, unchanged, not_coded)


def _write(path: Path, header: list[str], rows: list[dict[str, object]]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_atomically(path, buffer.getvalue().encode("utf-8"))


def _item_and_box():
    """face id → one item holding its image (the lowest id) and the face's box."""
    faces, images = schema.faces, schema.images
    return (select(faces.c.id.label("face_id"), func.min(images.c.item_id).label("item_id"))
            .join(images, images.c.sha256 == faces.c.image_sha256).group_by(faces.c.id).subquery())


def export_labels(engine: Engine, path: Path) -> int:
    """Every stored label, one row per coder, face and purpose; returns the rows written."""
    labels, faces = schema.face_labels, schema.faces
    item_of = _item_and_box()
    query = (select(labels.c.face_id, item_of.c.item_id, faces.c.left, faces.c.top, faces.c.right, faces.c.bottom,
                    labels.c.label, labels.c.labelled_by, labels.c.purpose, labels.c.sample, labels.c.labelled_at)
             .join(faces, faces.c.id == labels.c.face_id)
             .outerjoin(item_of, item_of.c.face_id == labels.c.face_id)
             .order_by(labels.c.purpose, labels.c.face_id, labels.c.labelled_by))
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    _write(path, list(COLUMNS), [
        {"face_id": r.face_id, "item": r.item_id, "left": r.left, "top": r.top, "right": r.right, "bottom": r.bottom,
         "label": r.label, "coder": r.labelled_by, "purpose": r.purpose, "sample": r.sample or "",
         "labelled_at": r.labelled_at.isoformat(timespec="seconds") if r.labelled_at else ""} for r in rows])
    return len(rows)


def export_template(engine: Engine, path: Path, sample: str, coder: str) -> int:
    """A coding sheet for one coder: the sample's faces in its random order, with the crop's path
    (relative to the home) to look at, and the coder's label so far (else empty). No prediction."""
    members, faces, labels = schema.validation_sample_faces, schema.faces, schema.face_labels
    item_of = _item_and_box()
    query = (select(members.c.face_id, item_of.c.item_id, faces.c.left, faces.c.top, faces.c.right, faces.c.bottom,
                    faces.c.crop_path, labels.c.label)
             .join(faces, faces.c.id == members.c.face_id)
             .outerjoin(item_of, item_of.c.face_id == members.c.face_id)
             .outerjoin(labels, and_(labels.c.face_id == members.c.face_id, labels.c.labelled_by == coder,
                                     labels.c.purpose == LabelPurpose.VALIDATION))
             .where(members.c.sample == sample).order_by(members.c.position))
    with engine.connect() as connection:
        if connection.execute(select(schema.validation_samples.c.name)
                              .where(schema.validation_samples.c.name == sample)).first() is None:
            raise LabelFileError(f"no validation sample {sample!r}", "draw one with `classify label --validate N`")
        rows = connection.execute(query).all()
    _write(path, ["face_id", "item", *BOX, "crop", "label", "coder", "purpose", "sample"], [
        {"face_id": r.face_id, "item": r.item_id, "left": r.left, "top": r.top, "right": r.right, "bottom": r.bottom,
         "crop": r.crop_path, "label": r.label or "", "coder": coder, "purpose": LabelPurpose.VALIDATION,
         "sample": sample} for r in rows])
    return len(rows)


def export_disagreements(path: Path, table) -> int:
    """The faces still to adjudicate as a sheet: fill `label` and import it (coder `adjudicated`)."""
    _write(path, ["face_id", "codings", "label", "coder", "purpose"], [
        {"face_id": r.face, "codings": r.codings, "label": "", "coder": schema.ADJUDICATOR,
         "purpose": r.purpose} for r in table.itertuples()])
    return len(table)
