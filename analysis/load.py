"""The catalogue read once into tidy pandas frames: the one place analysis touches the database.

Everything later (tables, export, dashboards) works on these frames, so a dashboard's callbacks
never query while a stage writes, and a notebook gets the same frames the published tables use.
Which result sets are read is decided here, once: the home's active ones (`analysis.active`): the
face set stored with the `[faces]` settings, the `[classify]` model's predictions for its domain
(other models: the version their latest classify run named), and the latest text run with the
`[text]` settings.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, Select, select

from postercensus.analysis.active import ActiveSets
from postercensus.analysis.face_status import item_face_statuses
from postercensus.analysis.validation_labels import model_validation
from postercensus.catalog import schema
from postercensus.catalog.config import DEMO_BANNER, HomeConfig
from postercensus.catalog.home import Home
from postercensus.catalog.runs import iso_utc
from postercensus.catalog.schema import ImageStatus
from postercensus.classify.activeset import predictions_named
from postercensus.classify.label.agreement import AGREEMENT_COLUMNS, agreement_table
from postercensus.classify.label.validation import resolve_labels
from postercensus.classify.train.domains import calibration_provenance
from postercensus.classify.models.modelcard import ModelCard

ITEM_COLUMNS = ["item_id", "source", "source_item_id", "title", "creator", "date", "year", "decade", "description",
                "keywords", "rights", "landing_url", "image_path", "face_status"]
# image_width/image_height: the upright image's size as the face stage measured it (EXIF rotation
# applied), the frame the boxes are in; an image's stored width/height are those of its raw file
FACE_COLUMNS = ["face_id", "item_id", "image_path", "image_width", "image_height", "left", "top", "right", "bottom",
                "parameter_hash"]
PREDICTION_COLUMNS = ["model_id", "model_version", "label", "top_label", "probability", "margin"]
IMAGE_COLUMNS = ["item_id", "image_path"]
MENTION_COLUMNS = ["item_id", "gender", "trigger", "role", "role_lemma", "category", "sentence", "in_title",
                   "version_hash"]


@dataclass
class Tables:
    """Tidy frames loaded once from the catalogue (read-only).

    items: one row per item not deleted, with its face_status in the active face set
    (`analysis.face_status`: only `scanned` items enter face counts and shares). faces: one row
    per face of the active face set × item showing it (identical image bytes in two items give
    the face to both) × model that predicted it; a face no model has predicted yet has one row
    with empty prediction columns. mentions: the active text version only. models: model_id →
    card of the version used, in registration order (the last is the default model). provenance:
    what export cites (whether the home is a demo, runs, face set, models, text version, sources).
    images: one row per stored (ok) image of an item not deleted, so a filter can say how many
    images its tables rest on.
    """

    items: pd.DataFrame
    faces: pd.DataFrame
    mentions: pd.DataFrame
    models: dict[str, ModelCard]
    home: Path
    face_set: str | None = None
    text_version: str | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    images: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=IMAGE_COLUMNS))
    # the home's `[classify] threshold`: the min_probability of filters that name none
    # (`analysis.filters.at_threshold`), the same rule `classify predict` stores its labels by
    threshold: float = 0.0
    # model id → the face set's validation labels (`analysis.validation_labels`): what corrects its shares
    validation: dict = field(default_factory=dict)
    # intercoder agreement of the hand labels per purpose (`classify.label.agreement`), for coding_agreement.csv
    coding_agreement: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=AGREEMENT_COLUMNS))
    # filters → ((items, faces, mentions), their `analysis.selection.Selection`), kept by `select` for the
    # latest few: one view's tables (and the export's) all select the same faces and mentions
    selections: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    # what analysis derives from these frames once and keeps beside them, each value with the frame it
    # was derived from (`analysis.item_keywords.catalogue_keywords`, `analysis.model_faces.model_faces`)
    derived: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def demo_banner(self) -> str | None:
        """The banner every view of a demo home's tables shows first (None for real collections):
        the demo's figures describe a poster generator, and a screenshot must not pass as a finding."""
        return DEMO_BANNER if self.provenance.get("demo") else None


def load_tables(source: Home | Path | Engine, home: Path | None = None) -> Tables:
    """Read the catalogue of a home (a `Home`, or its folder) or of an open engine.

    The home's config names the active result sets (`analysis.active`) and whether it is a demo
    (`provenance["demo"]`, see `Tables.demo_banner`). With an engine, `home` resolves the
    home-relative image paths and its config is read (default: the current folder, no config:
    every stage's default settings are active).
    """
    if isinstance(source, Engine):
        engine, config = source, None if home is None else HomeConfig.load(Path(home))
        home = Path(home) if home is not None else Path.cwd()
    else:
        opened = source if isinstance(source, Home) else Home(source)
        engine, config, home = opened.engine, opened.config, opened.path
    active = ActiveSets.of(config)
    with engine.connect() as connection:
        def frame(query: Select) -> pd.DataFrame:
            return _read(connection, query)

        runs = frame(select(schema.runs).order_by(schema.runs.c.id))
        face_set = _active_face_set(active, frame(select(schema.face_sets).order_by(schema.face_sets.c.created_at)))
        stored = _stored_images(frame)
        items = _items(frame, face_set, stored)
        images = stored.loc[stored["item_id"].isin(items["item_id"]), IMAGE_COLUMNS].reset_index(drop=True)
        models = frame(select(schema.classifier_models).order_by(schema.classifier_models.c.registered_at))
        faces, used = _faces(frame, items, face_set, models, runs, active)
        text_version = _active_text_version(active, runs)
        mentions = _mentions(frame, items, text_version)
        sources = frame(select(schema.sources.c.key, schema.sources.c.kind, schema.sources.c.location,
                               schema.sources.c.last_harvest_at).order_by(schema.sources.c.id))
        face_sets = frame(select(schema.face_sets).where(schema.face_sets.c.parameter_hash == face_set))
    cards = {row.model_id: ModelCard.of(row.card) for row in used.itertuples()}
    provenance = {"demo": config is not None and config.demo, "active_settings": active.describe(),
                  **_provenance(runs, face_sets, used, faces, text_version, sources)}
    return Tables(items, faces, mentions, cards, home, face_set, text_version, provenance, images,
                  active.classify.threshold, validation=model_validation(engine, face_set, cards),
                  coding_agreement=agreement_table(engine))


def _read(connection: Connection, query: Select) -> pd.DataFrame:
    """The query's rows as a frame (no columns when there is none): built from plain tuples, as a
    dict per row costs seconds on a catalogue of 100,000 items."""
    result = connection.execute(query)
    rows = list(map(tuple, result))
    return pd.DataFrame.from_records(rows, columns=list(result.keys())) if rows else pd.DataFrame()


def _items(frame, face_set: str | None, stored: pd.DataFrame) -> pd.DataFrame:
    """Items not deleted, with their first stored image and their face status in `face_set`."""
    items, sources = schema.items, schema.sources
    rows = frame(
        select(items.c.id.label("item_id"), sources.c.key.label("source"), items.c.source_item_id, items.c.title,
               items.c.creator, items.c.date, items.c.year, items.c.description, items.c.keywords, items.c.rights,
               items.c.landing_url)
        .join(sources, sources.c.id == items.c.source_id)
        .where(items.c.deleted.is_(False)).order_by(items.c.id))
    if rows.empty:
        return pd.DataFrame(columns=ITEM_COLUMNS)
    if stored.empty:
        rows["image_path"] = None
    else:  # stored is in position order: the first row of an item is its first image
        rows = rows.merge(stored[IMAGE_COLUMNS].drop_duplicates("item_id"), on="item_id", how="left")
    rows["year"] = rows["year"].astype("Int64")
    rows["decade"] = rows["year"] // 10 * 10
    rows["keywords"] = rows["keywords"].map(lambda keywords: list(keywords or []))
    rows["image_path"] = rows["image_path"].astype(object).where(rows["image_path"].notna(), None)
    rows["face_status"] = rows["item_id"].map(_face_statuses(frame, rows["item_id"], face_set, stored))
    return rows[ITEM_COLUMNS]


def _face_statuses(frame, item_ids: pd.Series, face_set: str | None, stored: pd.DataFrame) -> pd.Series:
    """item_id → face status in `face_set`, from the stored images and the set's scans of them."""
    scans = schema.face_scans
    scanned = pd.DataFrame() if face_set is None else frame(
        select(scans.c.image_sha256.label("sha256"), scans.c.status).where(scans.c.parameter_hash == face_set))
    return item_face_statuses(item_ids, stored.loc[stored["sha256"].notna(), ["item_id", "sha256"]], scanned)


def _stored_images(frame) -> pd.DataFrame:
    """Every stored (ok) image once, in item and position order: the items' first images, their
    face statuses and `Tables.images` are all read from this one query."""
    images = schema.images
    rows = frame(select(images.c.item_id, images.c.path.label("image_path"), images.c.sha256)
                 .where(images.c.status == ImageStatus.OK).order_by(images.c.item_id, images.c.position))
    return rows if not rows.empty else pd.DataFrame(columns=[*IMAGE_COLUMNS, "sha256"])


def _active_face_set(active: ActiveSets, face_sets: pd.DataFrame) -> str | None:
    """The newest face set stored with the active detector settings (a newer one means new model
    versions); None when no face set has them yet: the posters then count as not scanned."""
    if face_sets.empty:
        return None
    wanted = active.faces.parameters()
    matching = face_sets[face_sets["parameters"].map(lambda parameters: parameters == wanted)]
    return None if matching.empty else matching["parameter_hash"].iloc[-1]


def _faces(frame, items: pd.DataFrame, face_set: str | None, models: pd.DataFrame,
           runs: pd.DataFrame, active: ActiveSets) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Faces × items × model predictions, and the model versions used (one per model id)."""
    columns = FACE_COLUMNS + PREDICTION_COLUMNS + ["human_label"]
    no_models = models.iloc[0:0] if not models.empty else pd.DataFrame(columns=["model_id", "model_version", "card"])
    if face_set is None or items.empty:
        return pd.DataFrame(columns=columns), no_models
    faces, images, predictions, labels = schema.faces, schema.images, schema.predictions, schema.face_labels
    scans = schema.face_scans
    located = frame(
        select(faces.c.id.label("face_id"), images.c.item_id, images.c.path.label("image_path"),
               scans.c.width.label("image_width"), scans.c.height.label("image_height"), faces.c.left,
               faces.c.top, faces.c.right, faces.c.bottom, faces.c.parameter_hash)
        .join(images, (images.c.sha256 == faces.c.image_sha256) & (images.c.status == ImageStatus.OK))
        .outerjoin(scans, (scans.c.image_sha256 == faces.c.image_sha256)
                   & (scans.c.parameter_hash == faces.c.parameter_hash))
        .where(faces.c.parameter_hash == face_set).order_by(faces.c.id, images.c.item_id, images.c.position))
    if located.empty:
        return pd.DataFrame(columns=columns), no_models
    located = located[located["item_id"].isin(items["item_id"])].drop_duplicates(["face_id", "item_id"])
    # several coders may label a face: the one label it counts with, resolved as validation labels are
    human = resolve_labels(frame(select(labels.c.face_id.label("face"), labels.c.label,
                                        labels.c.labelled_by.label("coder"), labels.c.labelled_at)
                                 .join(faces, faces.c.id == labels.c.face_id)
                                 .where(faces.c.parameter_hash == face_set)))
    located = located.assign(human_label=located["face_id"].map(human.set_index("face")["label"]))
    predicted = frame(
        select(predictions.c.face_id, *(predictions.c[name] for name in PREDICTION_COLUMNS))
        .join(faces, faces.c.id == predictions.c.face_id).where(faces.c.parameter_hash == face_set))
    used = _used_versions(models, predicted, runs, _active_model(active))
    if not predicted.empty:
        predicted = predicted.merge(used[["model_id", "model_version"]], on=["model_id", "model_version"])
        located = located.merge(predicted, on="face_id", how="left")
    else:
        located = located.assign(**dict.fromkeys(PREDICTION_COLUMNS))
    return located[columns].reset_index(drop=True), used


def _active_model(active: ActiveSets) -> tuple[str, str]:
    """(model id, prediction version) of the active `[classify]` settings, from the model card."""
    named = predictions_named(active.classify)
    return named.model_id, named.version


def _used_versions(models: pd.DataFrame, predicted: pd.DataFrame, runs: pd.DataFrame,
                   active_model: tuple[str, str]) -> pd.DataFrame:
    """Per model id, the version with predictions to read; oldest model first, the active model last
    (the tables' default).

    The active model's version is the active one (its domain included: `classify.train.domains`); any
    other model's is the one its latest classify run named, else its latest registered version
    with predictions.
    """
    if models.empty or predicted.empty:
        return models.iloc[0:0]
    with_predictions = predicted[["model_id", "model_version"]].drop_duplicates()
    used = models.merge(with_predictions, on=["model_id", "model_version"])
    active_id, active_version = active_model
    used = used[(used["model_id"] != active_id) | (used["model_version"] == active_version)]
    latest_run = {}
    if not runs.empty:
        for parameters in runs.loc[runs["stage"] == "classify", "parameters"]:
            if parameters.get("model_version"):
                latest_run[parameters.get("model_id")] = parameters["model_version"]
    named = used["model_id"].map(latest_run) == used["model_version"]
    used = used.assign(named=named).sort_values(["named", "registered_at"], kind="stable")
    used = used.drop_duplicates("model_id", keep="last").sort_values("registered_at", kind="stable")
    used = used.assign(is_active=used["model_id"] == active_id).sort_values("is_active", kind="stable")
    return used.drop(columns=["named", "is_active"]).reset_index(drop=True)


def _active_text_version(active: ActiveSets, runs: pd.DataFrame) -> str | None:
    """The version hash of the latest text run with the active `[text]` settings; None before one."""
    if runs.empty:
        return None
    wanted = active.text.to_config()
    for parameters in reversed(list(runs.loc[runs["stage"] == "text", "parameters"])):
        if parameters.get("version_hash") and {key: parameters.get(key) for key in wanted} == wanted:
            return parameters["version_hash"]
    return None


def _mentions(frame, items: pd.DataFrame, text_version: str | None) -> pd.DataFrame:
    if text_version is None:
        return pd.DataFrame(columns=MENTION_COLUMNS)
    mentions = schema.mentions
    rows = frame(select(*(mentions.c[name] for name in MENTION_COLUMNS))
                 .where(mentions.c.version_hash == text_version).order_by(mentions.c.item_id, mentions.c.start))
    if rows.empty:
        return pd.DataFrame(columns=MENTION_COLUMNS)
    rows["in_title"] = rows["in_title"].astype(bool)
    return rows[rows["item_id"].isin(items["item_id"])].reset_index(drop=True)


def _iso(value: Any) -> str | None:
    """ISO 8601 in UTC (`catalog.runs.iso_utc`), None for a missing time."""
    if value is None or pd.isna(value):
        return None
    return iso_utc(pd.Timestamp(value))


def _provenance(runs: pd.DataFrame, face_sets: pd.DataFrame, used: pd.DataFrame, faces: pd.DataFrame,
                text_version: str | None, sources: pd.DataFrame) -> dict[str, Any]:
    """What a reader needs to cite the tables: the runs behind them and the settings of each result set."""
    by_stage: dict[str, list[dict[str, Any]]] = {}
    for run in runs.itertuples():
        by_stage.setdefault(run.stage, []).append({
            "id": int(run.id), "status": run.status, "started_at": _iso(run.started_at),
            "finished_at": _iso(run.finished_at)})
    face_set = None if face_sets.empty else {
        "parameter_hash": face_sets["parameter_hash"].iloc[0], "detector": face_sets["detector"].iloc[0],
        "parameters": face_sets["parameters"].iloc[0], "model_versions": face_sets["model_versions"].iloc[0]}
    models = {}
    for model in used.itertuples():
        card = ModelCard.of(model.card)
        evaluation = card.evaluation.to_dict() if card.evaluation else {}
        models[model.model_id] = {
            "model_version": model.model_version, "registered_at": _iso(model.registered_at),
            "location": model.location, "labels": card.label_list,
            "faces_predicted": int(faces.loc[faces["model_id"] == model.model_id, "face_id"].nunique()),
            "evaluation": {key: evaluation.get(key) for key in
                           ("n", "accuracy", "balanced_accuracy", "confusion", "decision_confusion", "threshold")},
            "calibration": calibration_provenance(card),  # the domain whose errors corrected the shares
        }
    text_runs = [] if runs.empty else [
        run for run in runs[runs["stage"] == "text"].itertuples() if run.parameters.get("version_hash") == text_version]
    return {
        "runs": by_stage,
        "face_set": face_set,
        "models": models,
        "text_version": {"version_hash": text_version,
                         "parameters": text_runs[-1].parameters if text_runs else None},
        "sources": [{**source, "last_harvest_at": _iso(source["last_harvest_at"])}
                    for source in sources.to_dict("records")],
    }


def result_sets(connection: Connection, active: ActiveSets) -> dict[str, Any]:
    """Which result sets `load_tables` reads now, by the same choices: the face set, each model's
    version, the text version, and the threshold their faces are decided at by default (the analysis
    cache's fingerprint names them: a changed `[classify] threshold` recomputes the tables)."""
    def frame(query: Select) -> pd.DataFrame:
        return _read(connection, query)

    runs = frame(select(schema.runs.c.stage, schema.runs.c.parameters)
                 .where(schema.runs.c.stage.in_(("classify", "text"))).order_by(schema.runs.c.id))
    face_set = _active_face_set(active, frame(select(schema.face_sets).order_by(schema.face_sets.c.created_at)))
    predictions, faces = schema.predictions, schema.faces
    predicted = frame(select(predictions.c.model_id, predictions.c.model_version).distinct()
                      .join(faces, faces.c.id == predictions.c.face_id).where(faces.c.parameter_hash == face_set))
    models = frame(select(schema.classifier_models).order_by(schema.classifier_models.c.registered_at))
    used = _used_versions(models, predicted, runs, _active_model(active))
    return {"face_set": face_set, "text_version": _active_text_version(active, runs),
            "models": dict(zip(used["model_id"], used["model_version"])) if not used.empty else {},
            "threshold": active.classify.threshold}  # the tables' default decision rule
