"""The methods section of a study as Markdown: every number that qualifies the figures, read from
the catalogue, the run records, the model card and provenance, never typed in.

A share of faces perceived as female means little without the collection and its harvest dates,
how many posters were scanned, the detector and its settings, the classifier and how often it errs
on this kind of picture, which errors corrected the share, how the interval was made and from how
many hand labels, and whether the coders agreed. Researchers copy that paragraph by hand from
several files today and get some of it wrong; here it is written from the same records the tables
rest on (`analysis.export.provenance`, `analysis.selection.select`), for the same filters, so the
methods and the figures cannot disagree. A demo home's section opens by saying it is a demo.
"""
from __future__ import annotations

import inspect
import math
import platform
from collections.abc import Mapping
from datetime import datetime, timezone
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any

import pandas as pd

from postercensus.analysis.export import provenance
from postercensus.analysis.face_status import FACE_STATUSES, FAILED, NO_IMAGE, NOT_SCANNED, SCANNED
from postercensus.analysis.filters import Filters, at_threshold, describe
from postercensus.analysis.load import Tables, load_tables
from postercensus.analysis.run_history import RunHistory, SourceHarvests
from postercensus.analysis.selection import Selection, select
from postercensus.catalog import __version__
from postercensus.catalog.atomicwrite import write_atomically
from postercensus.catalog.home import Home
from postercensus.catalog.schema import OTHER_LABEL
from postercensus.classify.label.agreement import BOOTSTRAP_DRAWS as AGREEMENT_DRAWS
from postercensus.classify.correction import Correction
from postercensus.classify.train.domains import applied_domain, calibration_summary, domain_figures, has_domains
from postercensus.classify.models.modelcard import Evaluation, ModelCard, Training
from postercensus.classify.prevalence.estimate import (
    EXACT,
    JEFFREYS,
    LEAST_SQUARES,
    PERCENTILE,
    ROGAN_GLADEN,
    ValidatedConfusion,
    estimate_prevalence,
)

# Who the software is by, as CITATION.cff names them (tests/test_report_methods.py checks they agree).
AUTHORS = "The postercensus maintainers"
CITATION_FILE = "CITATION.cff"
ESTIMATORS = {
    ROGAN_GLADEN: "the Rogan–Gladen estimator (Rogan & Gladen 1978)",
    LEAST_SQUARES: "adjusted classify-and-count (Forman 2008), solved as least squares on the simplex",
}
INTERVALS = {  # how each bootstrap replicate draws the collection's predicted proportions
    EXACT: "the exact (Clopper–Pearson) construction: each bound from Dirichlet(counts + one face given to or "
           "taken from the label)",
    JEFFREYS: "their Jeffreys posterior, Dirichlet(counts + ½)",
    PERCENTILE: "multinomial resampling at the observed proportions",
}
STATUS_WORDS = {NOT_SCANNED: "not scanned yet", FAILED: "image could not be decoded", NO_IMAGE: "no stored image"}


def methods_markdown(home: Home, filters: Filters = Filters(), generated_at: datetime | None = None) -> str:
    """The methods section for the figures of `home` under `filters` (default: the whole catalogue,
    decided at the home's `[classify] threshold`). Raises FilterError as the tables do."""
    return render(load_tables(home), RunHistory.read(home.engine), filters,
                  generated_at or datetime.now(timezone.utc))


def write_methods(home: Home, out: Path, filters: Filters = Filters()) -> Path:
    """Write `methods_markdown` to `out` (atomically: a reader never finds half a section) and return
    its path; nothing is written when the filters select nothing (FilterError)."""
    text = methods_markdown(home, filters)
    write_atomically(Path(out), text.encode("utf-8"))
    return Path(out)


def render(tables: Tables, history: RunHistory, filters: Filters, generated_at: datetime) -> str:
    """The Markdown of `methods_markdown` from loaded tables and run records."""
    filters = at_threshold(filters, tables.threshold)
    selection = select(tables, filters)
    record = provenance(tables, filters, generated_at)
    sections = [
        _header(tables, filters, generated_at),
        _collection(tables, history, selection, record, filters),
        _faces(tables, selection, record),
        _classifier(selection, record),
        _correction(tables, history, selection),
        _agreement(tables),
        _text(selection, record),
        _software(history),
        _citation(selection, record),
    ]
    return "\n\n".join("\n".join(lines) for lines in sections if lines) + "\n"


def _header(tables: Tables, filters: Filters, generated_at: datetime) -> list[str]:
    lines = ["# Methods", ""]
    if tables.demo_banner:
        lines += [f"> **{tables.demo_banner}.** This section describes the demo collection that `postercensus demo` "
                  "draws itself; none of its numbers is a finding about any archive.", ""]
    lines.append(f"*Written by postercensus {__version__} on {_when(generated_at)} for the figures of: "
                 f"{describe(filters)}.*")
    return lines


def _collection(tables: Tables, history: RunHistory, selection: Selection, record: dict[str, Any],
                filters: Filters) -> list[str]:
    sources = record.get("sources") or []
    lines = ["## Collection", ""]
    if not sources:
        lines.append("No source is registered: the catalogue holds no harvested collection.")
    else:
        lines.append(f"Items were harvested from {_plural(len(sources), 'source')}:")
        lines.append("")
        lines += [f"- {_source(source, history.harvests(source['key']))}" for source in sources]
    items = selection.items
    with_image = int(items["item_id"].isin(tables.images["item_id"]).sum())
    statuses = items["face_status"].value_counts()
    lines.append("")
    if tables.items.empty:
        return lines + ["The catalogue holds no items yet."]
    scope = (f"The catalogue holds {len(tables.items):,} items; **{len(items):,}** of them match the filters "
             f"({describe(filters)})" if filters.narrows else f"The catalogue holds **{len(items):,}** items")
    lines.append(f"{scope}; {with_image:,} have a stored digitised image and {int(statuses.get(SCANNED, 0)):,} were "
                 "searched for faces with the detector below" + _unscanned(statuses) + ".")
    return lines


def _source(source: Mapping[str, Any], harvests: SourceHarvests) -> str:
    runs = sum(harvests.statuses.values())
    said = f"`{source['key']}` ({source['kind']}, {source['location']}): "
    if not runs:
        said += "no harvest run recorded"
    else:
        statuses = ", ".join(f"{count} {status}" for status, count in harvests.statuses.items())
        first, last = _when(harvests.first_started), _when(harvests.last_finished)
        said += f"{_plural(runs, 'harvest run')} ({statuses}) " + (f"on {first}" if first == last else
                                                                   f"between {first} and {last}")
    last = source.get("last_harvest_at")
    return said + (f"; last complete harvest {_when(last)}" if last else "; no complete harvest")


def _unscanned(statuses: pd.Series) -> str:
    """'; not counted in any share: 2 not scanned yet, 1 no stored image' (nothing when all were scanned)."""
    parts = [f"{int(statuses[status]):,} {STATUS_WORDS[status]}" for status in FACE_STATUSES
             if status != SCANNED and statuses.get(status, 0)]
    return f"; left out of every share: {', '.join(parts)}" if parts else ""


def _faces(tables: Tables, selection: Selection, record: dict[str, Any]) -> list[str]:
    face_set = record.get("face_set")
    lines = ["## Faces", ""]
    if not face_set:
        return lines + ["No faces have been detected with the active `[faces]` settings yet."]
    settings = ", ".join(f"{key} {value}" for key, value in sorted(face_set["parameters"].items())
                         if key != "detector")
    models = ", ".join(f"{key} {value}" for key, value in sorted((face_set.get("model_versions") or {}).items()))
    found = tables.faces[tables.faces["item_id"].isin(selection.items["item_id"])]
    faces = found["face_id"].nunique()
    on_items = found["item_id"].nunique()
    scanned = int(selection.items["face_status"].eq(SCANNED).sum())
    lines.append(f"Faces were detected with **{face_set['detector']}** ({settings}; model files: {models or 'none'}), "
                 f"face set `{face_set['parameter_hash']}`. It found **{faces:,}** faces on {on_items:,} of the "
                 f"{scanned:,} scanned items.")
    other = found.loc[found["human_label"].eq(OTHER_LABEL), "face_id"].nunique()
    if other:
        kept = len(pd.unique(selection.catalogue_faces.face_ids[selection.face_rows]))
        lines.append(f"{other:,} of them were labelled `{OTHER_LABEL}` (not a face) by a coder and are left out of "
                     f"every count, leaving {kept:,} faces.")
    return lines


def _classifier(selection: Selection, record: dict[str, Any]) -> list[str]:
    lines = ["## Perceived gender", ""]
    if selection.model_id is None:
        return lines + ["No classifier has predicted these faces: the tables carry no shares."]
    card, model = selection.card, record["models"][selection.model_id]
    training = card.training or Training()
    backbone = card.backbone_name
    trained = f", trained on {training.data}" if training.data else ""
    if training.faces:
        per_domain = ", ".join(f"{domain} {n:,}" for domain, n in (training.per_domain or {}).items())
        trained += f" ({training.faces:,} faces" + (f": {per_domain}" if per_domain else "") + ")"
    lines.append(f"Each face was given a *perceived* gender (labels: {', '.join(selection.labels)}) by the model "
                 f"**{selection.model_id}**, version `{model['model_version']}`"
                 + (f" (backbone {backbone})" if backbone else "") + f"{trained}.")
    if has_domains(card):
        domain = applied_domain(card)
        lines += ["", f"Its predictions were made for the domain **{domain}** and calibrated there "
                      f"({calibration_summary(card, domain)}). Its out-of-fold figures per domain, the one used "
                      "marked (cross-fitted: each face calibrated by a fit on other groups' faces):", ""]
        lines += _domain_table(card, domain)
        figures = domain_figures(card)[domain]
        lines += ["", _chosen_domain(domain, figures)]
    else:
        evaluation = card.evaluation or Evaluation()
        note = card.evaluation_note
        faces = "unknown number of" if evaluation.n is None else evaluation.n
        lines += ["", f"The model has no per-domain calibration. On its {faces} "
                      f"held-out faces{f' ({note})' if note else ''}: accuracy {_number(evaluation.accuracy)}, "
                      f"balanced accuracy {_number(evaluation.balanced_accuracy)}."]
    lines += ["", _decisions(selection)]
    return lines


def _domain_table(card: ModelCard, used: str) -> list[str]:
    labels = card.label_list
    head = ["domain", "faces", "accuracy", "balanced accuracy", *(f"recall {label}" for label in labels),
            "ECE", "ECE before calibration"]
    rows = []
    for domain, figures in domain_figures(card).items():
        recall = figures.get("recall") or {}
        rows.append([f"**{domain}** (used)" if domain == used else domain, f"{figures.get('n', '')}",
                     _number(figures.get("accuracy")), _number(figures.get("balanced_accuracy")),
                     *(_number(recall.get(label)) for label in labels), _number(figures.get("ece")),
                     _number(figures.get("ece_before_calibration"))])
    return _table(head, rows)


def _chosen_domain(domain: str, figures: Mapping[str, Any]) -> str:
    recall = figures.get("recall") or {}
    per_label = ", ".join(f"{label} {_number(value)}" for label, value in recall.items())
    gap = f"; gap {_number(figures['recall_gap'])}" if figures.get("recall_gap") is not None else ""
    return (f"On {domain} faces ({figures.get('n', '?')} out of fold) the balanced accuracy is "
            f"{_number(figures.get('balanced_accuracy'))}, the recall per label {per_label or 'not recorded'}{gap}, "
            f"and the expected calibration error {_number(figures.get('ece'))} "
            f"({_number(figures.get('ece_before_calibration'))} before calibration).")


def _decisions(selection: Selection) -> str:
    """The decision rule and how many faces it decided as each category."""
    rule = (f"A face counts as its most probable label, `uncertain` when that label's probability is below "
            f"{selection.min_probability:g}" if selection.min_probability else
            "A face counts as its most probable label")
    counts = selection.item_faces.counts()
    faces = int(selection.item_faces.faces.sum())
    decided = sum(counts.values())
    split = ", ".join(f"{label} {counts.get(label, 0):,}" for label in selection.shares.categories)
    undecided = faces - decided
    return (f"{rule}. Of the {faces:,} faces counted, {decided:,} were decided ({split})"
            + (f"; {undecided:,} not predicted yet" if undecided else "") + ".")


def _correction(tables: Tables, history: RunHistory, selection: Selection) -> list[str]:
    lines = ["## Correction and intervals", ""]
    used = selection.shares.correction if selection.model_id is not None else None
    if used is None:
        return lines + ["The shares are not corrected: "
                        + ("no classifier has predicted these faces." if selection.model_id is None else
                           "the model card holds no held-out faces to measure its errors with.")]
    estimate = selection.shares.estimate(selection.item_faces.counts())
    defaults = inspect.signature(estimate_prevalence).parameters  # what `analysis.shares` leaves to the estimator
    method = estimate.method if estimate else None
    draws = estimate.n_boot if estimate else defaults["n_boot"].default
    level = estimate.level if estimate else defaults["level"].default
    interval = defaults["interval"].default
    lines.append("Each share is corrected for the classifier's errors with a confusion matrix measured under the same "
                 f"decision rule as the counts: {used.description}" + (f" ({used.note})" if used.note else "") + ". "
                 + (f"The estimator is {ESTIMATORS[method]}. " if method else "")
                 + f"The {level * 100:g} % intervals are percentile intervals over {draws:,} bootstrap draws; each draw "
                 "takes every confusion row's error rates from their Jeffreys posterior, Dirichlet(counts + ½), so the "
                 "uncertainty of the labelled faces is carried, and the collection's proportions from "
                 f"{INTERVALS[interval]}.")
    lines += ["", _confusion_caption(used), ""]
    lines += _confusion_table(used)
    if used.source == "validation":
        lines += ["", *_validation(tables, history, selection, used)]
    return lines


def _confusion_caption(used: Correction) -> str:
    confusion = used.confusion
    if isinstance(confusion, ValidatedConfusion):
        prior = (f"; the rates add the card's confusion as a prior worth {confusion.prior_faces:g} faces"
                 if confusion.prior_faces else "")
        return (f"The validation sample's confusion ({confusion.validation_labels:,} labelled faces, design-weighted "
                f"counts; rows: the coders' label, columns: the model's decision; in brackets the rate used{prior}):")
    return (f"The card's confusion ({int(confusion.counts.sum()):,} held-out faces; rows: true label, columns: the "
            "model's decision; in brackets the rate used):")


def _confusion_table(used: Correction) -> list[str]:
    confusion = used.confusion
    counts = confusion.validation if isinstance(confusion, ValidatedConfusion) else confusion.counts
    rates = confusion.rates()
    rows = [[label, *(f"{_count(counts[i, j])} ({rates[i, j]:.3f})" for j in range(len(confusion.predicted)))]
            for i, label in enumerate(confusion.labels)]
    return _table(["true \\ decided", *confusion.predicted], rows)


def _validation(tables: Tables, history: RunHistory, selection: Selection, used: Correction) -> list[str]:
    """How the validation samples were drawn, and what their labels say beyond the confusion."""
    labels = tables.validation[selection.model_id].labels
    lines = []
    for design in history.designs(used.samples):
        mine = labels[labels["sample"].eq(design.name)]
        population = sum(stratum["population"] for stratum in design.strata.values())
        drawn = sum(stratum["drawn"] for stratum in design.strata.values())
        how = ("a simple random sample" if design.design == "simple" else
               f"a sample stratified by {design.stratify_by} ("
               + ", ".join(f"{name}: {s['drawn']:,} of {s['population']:,}" for name, s in design.strata.items())
               + "; weighted by inverse inclusion probability)")
        extended = f", extended {_when(design.extended_at)}" if design.extended_at else ""
        other = int(mine["label"].eq(OTHER_LABEL).sum())
        coders = int(mine["coders"].max()) if len(mine) else 0
        lines.append(f"- Sample `{design.name}`: {how} of {drawn:,} faces from the {population:,} of the face set "
                     f"(seed {design.seed}), drawn {_when(design.created_at)}{extended}, shown to coders in random "
                     f"order without the model's prediction; {len(mine):,} labelled (up to {_plural(coders, 'coder')} "
                     f"a face), {other:,} of them not a face (`{OTHER_LABEL}`: the detector's false positives"
                     + (f", {other / len(mine):.1%}" if len(mine) else "") + ").")
    return lines


def _agreement(tables: Tables) -> list[str]:
    """Intercoder agreement per purpose (`classify.label.agreement`), once two coders have labelled a face."""
    rows = tables.coding_agreement
    if rows.empty:
        return []
    lines = ["## Intercoder agreement", ""]
    for row in rows.to_dict("records"):
        lines.append(
            f"- {row['purpose'].capitalize()} labels: {row['faces']:,} faces coded by two or more of "
            f"{_plural(int(row['coders']), 'coder')} ({row['codings']:,} codings). Krippendorff's alpha (nominal) "
            f"{_with_interval(row['alpha'], row['alpha_low'], row['alpha_high'])}, percent agreement "
            f"{_with_interval(row['percent'], row['percent_low'], row['percent_high'])}; "
            f"{row['disagreements']:,} faces with disagreeing coders, counted with the adjudicated label, else the "
            "majority's.")
    lines += ["", f"Intervals: 95 % percentile bootstrap over faces, {AGREEMENT_DRAWS:,} draws."]
    return lines


def _text(selection: Selection, record: dict[str, Any]) -> list[str]:
    text = record.get("text_version") or {}
    lines = ["## Text", ""]
    if not text.get("version_hash"):
        return lines + ["The text stage has not run with the active `[text]` settings: no mentions are counted."]
    version = (text.get("parameters") or {}).get("version") or {}
    parts = ", ".join(f"{name} {value}" for name, value in version.items())
    mentions = selection.mentions
    lines.append(f"Gendered noun phrases (\"woman tractor driver\") were extracted from the item descriptions by the "
                 f"text pipeline version `{text['version_hash']}`" + (f" ({parts})" if parts else "")
                 + f": {len(mentions):,} mentions in {mentions['item_id'].nunique():,} of the items (titles left out: "
                 "a title names a work, not a person).")
    return lines


def _software(history: RunHistory) -> list[str]:
    recorded = history.software()
    lines = ["## Software", ""]
    stage_lists = {tuple(stages) for _package, _version, stages in recorded}
    if len(stage_lists) == 1:  # every package recorded by the same runs: the stages said once
        lines += [f"The versions every run recorded (stages {', '.join(stage_lists.pop())}):", ""]
        lines += _table(["package", "version"], [[package, version] for package, version, _ in recorded],
                        numeric=False)
        lines.append("")
    elif recorded:
        lines += ["The versions the stages recorded in their run records:", ""]
        lines += _table(["package", "version", "stages"],
                        [[package, version, ", ".join(stages)] for package, version, stages in recorded], numeric=False)
        lines.append("")
    now = ", ".join(f"{name} {_installed(name)}" for name in ("numpy", "pandas"))
    lines.append(f"The corrected shares and their intervals were computed for this section with postercensus "
                 f"{__version__} on Python {platform.python_version()} ({now}).")
    return lines


def _citation(selection: Selection, record: dict[str, Any]) -> list[str]:
    lines = ["## How to cite", "",
             f"{AUTHORS}. *postercensus: {_summary()}* Version {__version__} [software], "
             f"{_installed_licence()} licence; the repository's `{CITATION_FILE}` gives the reference in full."]
    if selection.model_id is not None:
        card = selection.card
        licence = card.licence
        lines += ["", f"The classifier: model card of **{selection.model_id}**, version "
                      f"`{record['models'][selection.model_id]['model_version']}`"
                      + (f", created {card.created_at}" if card.created_at else "")
                      + (f". Its training data's terms: {licence.rstrip('.')}" if licence else "") + "."]
    return lines


def _summary() -> str:
    """The package's one-line description, ending in a full stop."""
    summary = package_metadata.metadata("postercensus")["Summary"].rstrip(".")
    return f"{summary}."


def _installed_licence() -> str:
    return package_metadata.metadata("postercensus").get("License") or "unstated"


def _installed(name: str) -> str:
    try:
        return package_metadata.version(name)
    except package_metadata.PackageNotFoundError:
        return "not installed"


def _table(head: list[str], rows: list[list[str]], numeric: bool = True) -> list[str]:
    """A Markdown table, the first column left-aligned and the others right-aligned when `numeric`."""
    align = ["---"] + ["---:" if numeric else "---"] * (len(head) - 1)
    return ["| " + " | ".join(cells) + " |" for cells in [head, align, *rows]]


def _number(value: Any, digits: int = 3) -> str:
    """A figure rounded to `digits`; 'not recorded' for a missing one (never a made-up 0)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "not recorded"
    return f"{float(value):.{digits}f}"


def _count(value: float) -> str:
    """A confusion cell: an integer as such, a design-weighted count to one decimal."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:.1f}"


def _with_interval(value: Any, low: Any, high: Any) -> str:
    if value is None or pd.isna(value):
        return "undefined (every coding the same label)"
    bounds = "" if low is None or pd.isna(low) else f" (95 % interval {low:.3f}–{high:.3f})"
    return f"{value:.3f}{bounds}"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _when(value: Any) -> str:
    """A stored time (datetime or ISO text) as '2026-12-07 20:55 UTC'; SQLite's naive times are UTC."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "unknown"
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.strftime("%Y-%m-%d %H:%M UTC")
