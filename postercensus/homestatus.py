"""What `postercensus status` reports (and `NotebookHome.status()` returns): one dict for both.

Counts of the catalogue, each stage's result sets, which of them are active, the last run and the
problems that stand.
"""
from __future__ import annotations

from typing import Any

from postercensus.catalog.home import Home
from postercensus.catalog.problems import standing_problems
from postercensus.catalog.runs import iso_utc, latest_run
from postercensus.catalog.stage import StageError


def active_summary(home: Home) -> dict[str, Any]:
    """The settings of each active result set and what they name in the catalogue now (None: not
    computed yet with these settings). A setting that names nothing usable (a model folder that is
    gone, an unknown key) is reported under `error`, so `status` still shows the rest."""
    from postercensus.analysis.active import ActiveSets
    from postercensus.analysis.load import result_sets
    from postercensus.classify.activeset import predictions_named

    try:
        active = ActiveSets.of(home.config)
        model = predictions_named(active.classify)
        with home.engine.connect() as connection:
            named = result_sets(connection, active)
    except StageError as error:
        return {"error": str(error)}
    settings = active.describe()
    return {
        "faces": {"settings": settings["faces"], "parameter_hash": named["face_set"]},
        "classify": {"settings": settings["classify"], "model_id": model.model_id, "model_version": model.version,
                     "predicted": named["models"].get(model.model_id) == model.version},
        "text": {"settings": settings["text"], "version_hash": named["text_version"]},
    }


def stages_not_run(home: Home) -> list[str]:
    """What `export` and `dashboard build` print when the active result sets are not computed yet
    (after a harvest alone): without it "0 faces matched" reads like a finding about the posters."""
    active = active_summary(home)
    if "error" in active:
        return []  # said by the tables themselves, which cannot be made from it
    lines = []
    if active["faces"]["parameter_hash"] is None:
        lines.append("no faces detected yet (with the active [faces] settings): the face figures are empty until "
                     "you run `postercensus refresh` (or `faces detect`, then `classify predict`)")
    elif not active["classify"]["predicted"]:
        lines.append("the faces have no perceived-gender labels from the active model yet: run "
                     "`postercensus refresh` (or `classify predict`)")
    if active["text"]["version_hash"] is None:
        lines.append("descriptions not scanned for gendered phrases yet (with the active [text] settings): run "
                     "`postercensus refresh` (or `text extract`)")
    return lines


def validation_summary(home: Home) -> dict[str, Any] | None:
    """Which confusion corrects the shares, the interval half-width now and the half-width expected
    with 50, 100 and 200 more validation labels, each capped at the faces left without one
    (`analysis.validation_labels.validation_need`), once the home has a validation sample (before,
    there is nothing to weigh another hour of labelling against, and loading the tables would slow
    `status` on a large catalogue); None otherwise, or where the tables cannot say (the error is
    reported under `error`)."""
    from postercensus.analysis.load import load_tables
    from postercensus.analysis.validation_labels import validation_need
    from postercensus.classify.label.validation import sample_names

    if not sample_names(home.engine):
        return None
    try:
        return validation_need(load_tables(home))
    except (StageError, ValueError) as error:
        return {"error": str(error)}


def status_summary(home: Home) -> dict[str, Any]:
    """The dict `status --json` prints."""
    from postercensus.classify.label.agreement import agreement_summary
    from postercensus.classify.label.catalogfaces import PredictionStore
    from postercensus.faces.store import FaceStore
    from postercensus.text.store import TextStore

    engine = home.engine
    summary = home.catalog.summary()
    last = latest_run(engine)
    summary.update(
        home=str(home.path),
        catalog=home.database_display,
        face_sets=FaceStore(engine).summary(),
        classifiers=PredictionStore(engine, home.path).summary(),
        text_versions=TextStore(engine).summary(),
        active=active_summary(home),
        standing_problems=standing_problems(engine),
        validation_need=validation_summary(home),
        coding_agreement=agreement_summary(engine),
        last_run=None if last is None else {
            "id": last["id"], "stage": last["stage"], "status": last["status"],
            "started_at": iso_utc(last["started_at"]) if last["started_at"] else None,
            "counts": last["counts"],
        },
    )
    return summary
