"""Random validation samples of a face set, and the labels people gave them.

The correction of shares needs the classifier's errors on *this* collection: a person codes a
random sample of its faces (never the most-uncertain-first queue, which is chosen by the model and
so not random), and the correction compares the model's predictions with those labels. A sample
records its design, strata and seed, so its weights can be recomputed and the draw repeated; it can
be extended by later draws, which only add faces.

Stratified samples use equal allocation (each stratum drawn as evenly as its size allows): the
point of stratifying by predicted label is to see enough of the rare label, which proportional
allocation would not. Plain SQLAlchemy Core, so it runs on SQLite and PostgreSQL.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, and_, func, select

from postercensus.catalog import schema
from postercensus.catalog.runs import utcnow
from postercensus.catalog.schema import ADJUDICATOR, LabelPurpose
from postercensus.classify.label.labelqueue import Model, faces_with_context
from postercensus.classify.models.modelcard import ModelCard

STRATIFY_BY = ("predicted", "decade")
ALL_FACES = "all"  # the one stratum of a simple sample
UNPREDICTED = "unpredicted"  # a face the stratifying model has not predicted
UNDATED = "undated"  # a face on an item without a year


class ValidationError(ValueError):
    """A sample cannot be drawn or extended as asked; the message says what to do instead."""


@dataclass(frozen=True)
class DrawReport:
    """What a draw did, for the CLI's summary line."""

    sample: str
    design: str
    drawn: int  # faces added by this draw
    size: int  # faces in the sample now
    population: int  # faces of the face set the sample is drawn from
    strata: dict[str, dict[str, int]]  # {stratum: {"population": N_h, "drawn": n_h}}
    weights: dict[str, float]  # {stratum: (N_h / N) / (n_h / n)}: the correction's weight once all are labelled
    created: bool  # a new sample (else an extended one)


def _population(connection: Connection, face_set: str, stratify_by: str | None,
                model: Model | None) -> dict[int, str]:
    """face id → stratum, for every face of the set on a stored image (the corpus the tables count)."""
    query = faces_with_context().where(schema.faces.c.parameter_hash == face_set)
    if stratify_by == "predicted":
        if model is None:
            raise ValidationError("--stratify predicted needs a model's predictions; run `postercensus classify "
                                  "predict` first, or draw a simple sample")
        predictions = schema.predictions
        query = query.outerjoin(predictions, and_(predictions.c.face_id == schema.faces.c.id,
                                                  predictions.c.model_id == model[0],
                                                  predictions.c.model_version == model[1]))
        query = query.add_columns(predictions.c.label.label("stratum"))
    elif stratify_by == "decade":
        query = query.add_columns(schema.items.c.year.label("stratum"))
    rows = connection.execute(query.order_by(schema.faces.c.id)).all()
    if stratify_by is None:
        return {row.id: ALL_FACES for row in rows}
    if stratify_by == "predicted":
        return {row.id: row.stratum or UNPREDICTED for row in rows}
    return {row.id: UNDATED if row.stratum is None else f"{row.stratum // 10 * 10}s" for row in rows}


def _equal_allocation(available: dict[str, int], already: dict[str, int], n: int) -> dict[str, int]:
    """How many more faces each stratum gets: one at a time to the stratum with fewest drawn."""
    extra = dict.fromkeys(available, 0)
    for _ in range(n):
        open_strata = [s for s in sorted(available) if extra[s] < available[s]]
        if not open_strata:
            break
        chosen = min(open_strata, key=lambda s: (already.get(s, 0) + extra[s], s))
        extra[chosen] += 1
    return extra


def draw_sample(engine: Engine, face_set: str, n: int, name: str, seed: int = 0,
                stratify_by: str | None = None, model: Model | None = None) -> DrawReport:
    """Draw `n` more faces into the sample `name` (created on the first draw) at random.

    The generator is seeded with (seed, faces already in the sample), so the same calls on the
    same catalogue draw the same faces, and an extension never repeats a face. Each sample is
    drawn independently of the others (so its design weights hold); a face drawn into two samples
    enters the correction once (`adjudicated_validation_labels`). An existing
    sample keeps its design, strata variable and seed; asking for another is an error.
    """
    if n < 1:
        raise ValidationError(f"--validate needs a positive number of faces (got {n})")
    if stratify_by is not None and stratify_by not in STRATIFY_BY:
        raise ValidationError(f"--stratify must be one of {', '.join(STRATIFY_BY)} (got {stratify_by!r})")
    samples, members = schema.validation_samples, schema.validation_sample_faces
    with engine.begin() as connection:
        existing = connection.execute(select(samples).where(samples.c.name == name)).first()
        if existing is not None:
            if existing.face_set != face_set:
                raise ValidationError(f"sample {name!r} was drawn from face set {existing.face_set}, not the active "
                                      f"{face_set}; name a new sample with --sample")
            if existing.stratify_by != stratify_by and stratify_by is not None:
                design = existing.design + (f" by {existing.stratify_by}" if existing.stratify_by else "")
                raise ValidationError(f"sample {name!r} is {design}; extend it without --stratify or name a new "
                                      "sample with --sample")
            stratify_by, seed = existing.stratify_by, existing.seed
            model = tuple(existing.model) if existing.model else model
        population = _population(connection, face_set, stratify_by, model)
        if not population:
            raise ValidationError("the active face set has no faces on stored images; run `postercensus refresh` "
                                  "(or `faces detect`) first")
        drawn = dict(connection.execute(select(members.c.face_id, members.c.stratum)
                                        .where(members.c.sample == name)).all())
        remaining: dict[str, list[int]] = defaultdict(list)
        for face_id, stratum in population.items():
            if face_id not in drawn:
                remaining[stratum].append(face_id)
        already = Counter(drawn.values())
        if stratify_by is None:
            extra = {ALL_FACES: min(n, len(remaining[ALL_FACES]))}
        else:
            extra = _equal_allocation({s: len(ids) for s, ids in remaining.items()}, already, n)
        rng = np.random.default_rng([seed, len(drawn)])
        new: list[tuple[int, str]] = []
        for stratum in sorted(extra):
            pool = remaining[stratum]
            chosen = rng.choice(len(pool), size=extra[stratum], replace=False) if extra[stratum] else []
            new.extend((pool[i], stratum) for i in sorted(chosen))
        order = rng.permutation(len(new))  # the page's order: random, not by stratum or id
        start = connection.execute(select(func.max(members.c.position)).where(members.c.sample == name)).scalar()
        start = -1 if start is None else start
        now = utcnow()
        design = "simple" if stratify_by is None else "stratified"
        if existing is None:  # first, so the members' foreign key finds it
            connection.execute(samples.insert().values(
                name=name, design=design, stratify_by=stratify_by, face_set=face_set, seed=seed, strata={},
                weights={}, model=list(model) if stratify_by == "predicted" and model else None, created_at=now))
        if new:
            connection.execute(members.insert(), [
                {"sample": name, "face_id": new[i][0], "stratum": new[i][1], "position": start + 1 + rank,
                 "drawn_at": now} for rank, i in enumerate(order)])
        counts = Counter(population.values())
        sizes = already + Counter(stratum for _, stratum in new)
        strata = {s: {"population": counts.get(s, 0), "drawn": sizes.get(s, 0)} for s in sorted(set(counts) | set(sizes))}
        # the design weight the correction uses, (N_h / N) / (m_h / m), with every drawn face validated
        size, total = sum(v["drawn"] for v in strata.values()), sum(v["population"] for v in strata.values())
        weights = {s: (v["population"] / total) / (v["drawn"] / size) for s, v in strata.items() if v["drawn"]}
        changes = {"strata": strata, "weights": weights} | ({} if existing is None else {"extended_at": now})
        connection.execute(samples.update().where(samples.c.name == name).values(**changes))
    return DrawReport(name, design, len(new), len(drawn) + len(new), len(population), strata, weights, existing is None)


def sample_names(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(select(schema.validation_samples.c.name)
                                       .order_by(schema.validation_samples.c.created_at)).scalars())


def resolve_labels(codings: pd.DataFrame) -> pd.DataFrame:
    """One label per face from its codings (columns face, label, coder, labelled_at).

    The rule (documented in docs/validation-sample.md): a label by the coder `adjudicated` wins
    (its latest); else the majority of the coders; a tie goes to the tied label coded first (and
    the face stays listed among the disagreements for adjudication). Returns columns face, label,
    coders. Vectorised: the tables resolve every hand label of a large catalogue with it.
    """
    columns = ["face", "label", "coders"]
    if codings.empty:
        return pd.DataFrame(columns=columns)
    adjudicator = codings["coder"] == ADJUDICATOR
    coded = codings[~adjudicator]
    votes = (coded.groupby(["face", "label"], sort=False)
             .agg(votes=("coder", "size"), first=("labelled_at", "min")).reset_index()
             .sort_values(["face", "votes", "first"], ascending=[True, False, True])
             .drop_duplicates("face")[["face", "label"]])
    settled = (codings[adjudicator].sort_values("labelled_at").drop_duplicates("face", keep="last")[["face", "label"]])
    chosen = pd.concat([settled, votes[~votes["face"].isin(settled["face"])]])
    coders = coded.groupby("face")["coder"].nunique()
    chosen = chosen.assign(coders=chosen["face"].map(coders).fillna(0).astype(int), face=chosen["face"].astype(int))
    return chosen.sort_values("face")[columns].reset_index(drop=True)


def validation_codings(engine: Engine, face_set: str | None = None) -> pd.DataFrame:
    """Every validation label of a face in a sample: columns face, label, coder, labelled_at."""
    labels, members, faces = schema.face_labels, schema.validation_sample_faces, schema.faces
    query = (select(labels.c.face_id.label("face"), labels.c.label, labels.c.labelled_by.label("coder"),
                    labels.c.labelled_at)
             .join(faces, faces.c.id == labels.c.face_id)
             .where(labels.c.purpose == LabelPurpose.VALIDATION,
                    labels.c.face_id.in_(select(members.c.face_id)))
             .order_by(labels.c.face_id, labels.c.labelled_at))
    if face_set is not None:
        query = query.where(faces.c.parameter_hash == face_set)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return pd.DataFrame([row._asdict() for row in rows], columns=["face", "label", "coder", "labelled_at"])


def adjudicated_validation_labels(engine: Engine, face_set: str | None = None) -> pd.DataFrame:
    """One row per validated face of the validation sample(s) (of `face_set`, else of every set):
    columns face (faces.id), label (the adjudicated label, else the coders' majority; a tie goes to
    the label coded first), weight (inverse inclusion probability relative to the sample: 1.0 for a
    simple random sample; for a stratified one (N_h / N) / (m_h / m), with N_h the stratum's faces
    and m_h its validated faces, so the weights sum to the validated faces), sample (its name),
    coders (how many coders labelled it, the adjudicator not counted).

    Faces labelled `other` (not a face) are kept: they are the detector's false positives.
    A face enters once: one drawn into two samples keeps the row, and weight, of the sample created
    first (its label is the same in both), so the correction never counts one label twice.
    """
    columns = ["face", "label", "weight", "sample", "coders"]
    resolved = resolve_labels(validation_codings(engine, face_set))
    if resolved.empty:
        return pd.DataFrame(columns=columns)
    samples, members = schema.validation_samples, schema.validation_sample_faces
    with engine.connect() as connection:
        member_rows = connection.execute(select(members.c.sample, members.c.face_id.label("face"), members.c.stratum,
                                                samples.c.design, samples.c.strata, samples.c.created_at)
                                         .join(samples, samples.c.name == members.c.sample)).all()
    membership = pd.DataFrame([row._asdict() for row in member_rows])
    frame = membership.merge(resolved, on="face")
    if face_set is not None:
        frame = frame[frame["sample"].isin(_samples_of(engine, face_set))]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    # (N_h / N) / (m_h / m) per stratum of a stratified sample, m_h counting validated faces only
    population_share = [row.strata[row.stratum]["population"] / sum(v["population"] for v in row.strata.values())
                        for row in frame.itertuples()]
    validated_share = frame.groupby(["sample", "stratum"])["face"].transform("size") / \
        frame.groupby("sample")["face"].transform("size")
    weights = (pd.Series(population_share, index=frame.index) / validated_share).where(frame["design"] != "simple", 1.0)
    frame = frame.assign(weight=weights).sort_values(["created_at", "sample"]).drop_duplicates("face")
    frame = frame.astype({"face": int, "label": str, "weight": float, "sample": str, "coders": int})
    return frame[columns].sort_values(["sample", "face"]).reset_index(drop=True)


def _samples_of(engine: Engine, face_set: str) -> list[str]:
    samples = schema.validation_samples
    with engine.connect() as connection:
        return list(connection.execute(select(samples.c.name).where(samples.c.face_set == face_set)).scalars())


def validation_faces(engine: Engine) -> set[tuple[int, str]]:
    """(face id, image sha256) of every face with a validation label."""
    labels, faces = schema.face_labels, schema.faces
    with engine.connect() as connection:
        rows = connection.execute(select(faces.c.id, faces.c.image_sha256).distinct()
                                  .join(labels, labels.c.face_id == faces.c.id)
                                  .where(labels.c.purpose == LabelPurpose.VALIDATION)).all()
    return {(row.id, row.image_sha256) for row in rows}


def validation_labels_used_in_training(card: ModelCard | Mapping[str, Any], engine: Engine) -> bool:
    """True when the model whose card this is was trained on any of these validation labels.

    `classify train --from-catalog` records the catalogue faces it trained on (id and image hash,
    so a model trained on another catalogue whose ids happen to match is not mistaken) and whether
    validation labels were included. A face trained on with its training label and later drawn
    into a sample counts too: the model has seen it, so its errors there are not the collection's.
    """
    training = ModelCard.of(card).training
    faces = (training.catalogue_faces or []) if training else []
    trained = {(int(face), str(sha)) for face, sha in faces}
    return bool(trained & validation_faces(engine))
