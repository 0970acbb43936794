"""The catalogue's tables (SQLAlchemy Core), portable between SQLite and PostgreSQL.

Stages added by later issues (faces, predictions, mentions) add their tables through
`catalog.migrations`, so an existing catalogue is upgraded in place instead of rebuilt.
"""
from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, nullable=False),
)

sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(2000), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
    Column("location", Text, nullable=False),
    Column("params", JSON, nullable=False),
    Column("watermark", String(40)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_harvest_at", DateTime(timezone=True)),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("stage", String(40), nullable=False),
    Column("source_id", Integer, ForeignKey("sources.id")),
    Column("parameters", JSON, nullable=False),
    Column("versions", JSON, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("status", String(20), nullable=False),
    Column("counts", JSON),
    Column("errors", JSON),
)

items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source_id", Integer, ForeignKey("sources.id"), nullable=False),
    Column("source_item_id", String(1000), nullable=False),
    Column("title", Text),
    Column("date", String(200)),
    Column("year", Integer),
    Column("keywords", JSON, nullable=False),  # source_keywords with the configured synonym map applied
    Column("source_keywords", JSON),  # normalised as the source gave them (schema version 4)
    Column("description", Text),
    Column("creator", Text),
    Column("rights", Text),
    Column("landing_url", Text),
    Column("datestamp", String(40)),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("deleted_at", DateTime(timezone=True)),
    Column("content_hash", String(64), nullable=False),
    Column("raw", JSON, nullable=False),
    Column("first_run_id", Integer, ForeignKey("runs.id")),
    Column("changed_run_id", Integer, ForeignKey("runs.id")),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("source_id", "source_item_id", name="uq_items_source_item"),
)
Index("ix_items_year", items.c.year)

item_versions = Table(
    "item_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("run_id", Integer, ForeignKey("runs.id")),
    Column("change", String(10), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("fields", JSON, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)
Index("ix_item_versions_item", item_versions.c.item_id)

images = Table(
    "images",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("origin", Text, nullable=False),
    Column("label", Text),
    Column("sha256", String(64)),
    Column("path", Text),
    Column("format", String(20)),
    Column("width", Integer),
    Column("height", Integer),
    Column("bytes", Integer),
    Column("status", String(12), nullable=False),
    Column("error", Text),
    Column("attempts", Integer, nullable=False, default=0),
    Column("fetched_at", DateTime(timezone=True)),
    UniqueConstraint("item_id", "origin", name="uq_images_item_origin"),
)
Index("ix_images_status", images.c.status)
Index("ix_images_sha256", images.c.sha256)


# -- faces (schema version 2) ----------------------------------------------------------------
# Face results are keyed by the image's content hash and a parameter hash (settings + model
# versions), so identical bytes are processed once per setting and two settings stay comparable.

face_sets = Table(
    "face_sets",
    metadata,
    Column("parameter_hash", String(16), primary_key=True),
    Column("detector", String(20), nullable=False),
    Column("parameters", JSON, nullable=False),
    Column("model_versions", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

face_scans = Table(
    "face_scans",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("image_sha256", String(64), nullable=False),
    Column("parameter_hash", String(16), ForeignKey("face_sets.parameter_hash"), nullable=False),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("status", String(12), nullable=False),
    Column("error", Text),
    Column("width", Integer),
    Column("height", Integer),
    Column("face_count", Integer, nullable=False),
    Column("scanned_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("image_sha256", "parameter_hash", name="uq_face_scans_image_set"),
)

faces = Table(
    "faces",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("image_sha256", String(64), nullable=False),
    Column("parameter_hash", String(16), ForeignKey("face_sets.parameter_hash"), nullable=False),
    Column("face_index", Integer, nullable=False),
    Column("left", Integer, nullable=False),
    Column("top", Integer, nullable=False),
    Column("right", Integer, nullable=False),
    Column("bottom", Integer, nullable=False),
    Column("score", Float, nullable=False),
    Column("detectors", JSON, nullable=False),
    Column("landmarks5", JSON, nullable=False),
    Column("landmarks68", JSON, nullable=False),  # [] when the detector's points aligned the face
    Column("embedding", JSON, nullable=False),
    Column("crop_path", Text, nullable=False),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    # schema version 6: which landmarks aligned the crop ('detector5' or 'dlib68'), and the
    # detector's own five points (eyes, nose tip, mouth corners) when it gave them
    Column("aligned_by", String(12)),
    Column("detector_landmarks", JSON),
    UniqueConstraint("image_sha256", "parameter_hash", "face_index", name="uq_faces_image_set_index"),
)
Index("ix_faces_set", faces.c.parameter_hash)


# -- classify (schema version 3) --------------------------------------------------------------
# A classifier is registered with its evaluation (the confusion matrix every corrected share is
# computed from), so analysis reads everything it needs from the catalogue alone.

classifier_models = Table(
    "classifier_models",
    metadata,
    Column("model_id", String(200), primary_key=True),
    Column("model_version", String(64), primary_key=True),
    Column("backbone", String(40), nullable=False),
    Column("labels", JSON, nullable=False),
    Column("card", JSON, nullable=False),  # model.json as loaded: training data, evaluation, confusion
    Column("location", Text, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
)

predictions = Table(
    "predictions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("face_id", Integer, ForeignKey("faces.id"), nullable=False),
    Column("model_id", String(200), nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("label", String(200), nullable=False),  # top label, or "uncertain" below the threshold
    Column("top_label", String(200), nullable=False),  # the argmax, whatever the threshold
    Column("probability", Float, nullable=False),  # of the top label
    Column("margin", Float, nullable=False),  # top minus second probability
    Column("probabilities", JSON, nullable=False),  # {label: probability}
    Column("threshold", Float, nullable=False),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("predicted_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("face_id", "model_id", "model_version", name="uq_predictions_face_model"),
)
Index("ix_predictions_model", predictions.c.model_id, predictions.c.model_version)

face_labels = Table(
    "face_labels",
    metadata,
    # schema version 7: one row per coder per face per purpose (several coders may code one face;
    # a coder's new label replaces their own); before, one row per face
    Column("id", Integer, primary_key=True),
    Column("face_id", Integer, ForeignKey("faces.id"), nullable=False),
    Column("label", String(200), nullable=False),  # a class label, or OTHER_LABEL (not a face)
    Column("labelled_by", String(200), nullable=False),  # the coder
    Column("labelled_at", DateTime(timezone=True), nullable=False),
    Column("purpose", String(20), nullable=False, server_default="training"),  # LabelPurpose
    Column("sample", String(200)),  # validation labels: a validation_samples name (no foreign key: the
    # table is older than validation_samples, and PostgreSQL will not refer to a table not made yet)
    UniqueConstraint("face_id", "labelled_by", "purpose", name="uq_face_labels_face_coder_purpose"),
)
Index("ix_face_labels_face", face_labels.c.face_id)


# -- validation samples (schema version 7) ----------------------------------------------------
# A random sample of the active face set that people code to measure the classifier's errors on
# the collection itself. The design (simple or stratified), the strata's population and draw
# counts and the seed are kept, so the inverse-inclusion weights can be recomputed and the draw
# repeated; `position` is the random order the labelling page shows the faces in.

validation_samples = Table(
    "validation_samples",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("design", String(20), nullable=False),  # simple | stratified
    Column("stratify_by", String(20)),  # predicted | decade (stratified designs)
    Column("face_set", String(16), ForeignKey("face_sets.parameter_hash"), nullable=False),
    Column("strata", JSON, nullable=False),  # {stratum: {"population": N_h, "drawn": n_h}}
    Column("weights", JSON, nullable=False),  # {stratum: N_h / n_h}, as of the latest draw
    Column("seed", Integer, nullable=False),
    Column("model", JSON),  # [model_id, version] whose predicted labels made the strata
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("extended_at", DateTime(timezone=True)),
)

validation_sample_faces = Table(
    "validation_sample_faces",
    metadata,
    Column("sample", String(200), ForeignKey("validation_samples.name"), primary_key=True),
    Column("face_id", Integer, ForeignKey("faces.id"), primary_key=True),
    Column("stratum", String(200), nullable=False),
    Column("position", Integer, nullable=False),  # the page's (random) order
    Column("drawn_at", DateTime(timezone=True), nullable=False),
)


# -- text (schema version 4) ------------------------------------------------------------------
# Mentions are keyed by item and the text pipeline's version hash (model, lexicon, categories,
# boilerplate, code): a changed lexicon builds a second result set beside the first, as face
# settings do. `text_scans` is the log that makes the stage incremental: it remembers which
# description (by hash) each item was scanned with, so an edited description is scanned again.

mentions = Table(
    "mentions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("text_hash", String(64), nullable=False),  # sha256 of the description as stored
    Column("version_hash", String(64), nullable=False),
    Column("gender", String(40), nullable=False),
    Column("trigger", Text, nullable=False),
    Column("role", Text),
    Column("role_lemma", Text),
    Column("category", String(200)),
    Column("start", Integer, nullable=False),  # character offsets in the cleaned description
    Column("end", Integer, nullable=False),
    Column("sentence", Text, nullable=False),
    Column("in_title", Boolean, nullable=False),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
)
Index("ix_mentions_item_version", mentions.c.item_id, mentions.c.version_hash)

text_scans = Table(
    "text_scans",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("version_hash", String(64), nullable=False),
    Column("text_hash", String(64), nullable=False),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("mention_count", Integer, nullable=False),
    Column("warning", Text),
    Column("scanned_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("item_id", "version_hash", name="uq_text_scans_item_version"),
)

# Small catalogue-wide settings a stage must remember between runs (e.g. the keyword synonym
# map last applied to every item), as JSON under a name.
catalog_settings = Table(
    "catalog_settings",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("value", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


# -- problems (schema version 5) --------------------------------------------------------------
# The problems each source's (harvests) or stage's (the others) latest run reported, keyed by
# what they are about, with the run that first reported each one: a refresh exits 2 only for a
# problem its previous run did not report (see catalog.problems).

problems = Table(
    "problems",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("stage", String(40), nullable=False),  # the run's stage; with source_id, the scope compared
    Column("source_id", Integer, ForeignKey("sources.id")),
    Column("kind", String(40), nullable=False),
    Column("key", Text, nullable=False),  # what it is about (a file, an item's image, a record), never the error text
    Column("message", Text, nullable=False),  # as first reported
    Column("first_run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("last_run_id", Integer, ForeignKey("runs.id"), nullable=False),
)
Index("ix_problems_scope", problems.c.stage, problems.c.source_id)
Index("ix_problems_last_run", problems.c.last_run_id)

OTHER_LABEL = "other"  # a person said: not a face / none of the labels; left out of every count
UNCERTAIN_LABEL = "uncertain"  # the classifier's top probability was below the threshold


class LabelPurpose:
    """Why a person labelled a face: to train a model, or to measure a model's errors."""

    TRAINING = "training"  # the labelling page's default queue, imported training coding
    VALIDATION = "validation"  # a random validation sample: never trains the model it validates
    ALL = (TRAINING, VALIDATION)


ADJUDICATOR = "adjudicated"  # the coder name whose label settles a disagreement


class FaceScanStatus:
    OK = "ok"
    FAILED = "failed"  # the stored bytes could not be decoded or detection failed


class ImageStatus:
    """Lifecycle of an image row: why it is (not) usable by the face stage."""

    PENDING = "pending"  # listed by the source, not fetched yet (or a run was killed)
    OK = "ok"  # stored, verified, dimensions known
    FAILED = "failed"  # fetch or verification failed; retried on later runs up to a limit
    MISSING = "missing"  # a local file the source names does not exist
    WITHDRAWN = "withdrawn"  # no longer listed by its item; kept for history
