"""The footer that makes a dashboard citable: when it was made, by which postercensus, from which
sources, with which model, face detector and text pipeline.

A figure copied into a paper has to say what produced it. The footer is read from
`analysis.export.provenance`, the function that writes provenance.json, so the page, the app and
an export of the same tables cannot name different runs, models or settings; only the wording is
made here.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from postercensus.analysis.export import provenance
from postercensus.analysis.filters import Filters, at_threshold, describe
from postercensus.analysis.load import Tables

NOT_YET = "not run yet"


def citation(tables: Tables, filters: Filters = Filters(),
             generated_at: datetime | None = None) -> list[tuple[str, str]]:
    """The footer as (what, value) pairs for this view, generated now unless `generated_at` is given;
    a demo home's footer opens with its banner."""
    record = provenance(tables, filters, generated_at or datetime.now(timezone.utc))
    lines = citation_lines(record)
    after_generated = [what for what, _value in lines].index("Generated") + 1
    shown = describe(at_threshold(filters, tables.threshold))  # the threshold the figures were decided at
    return [*lines[:after_generated], ("Filters", shown), *lines[after_generated:]]


def citation_lines(record: dict[str, Any]) -> list[tuple[str, str]]:
    """The pairs of a provenance record (see `analysis.export.provenance`), in reading order."""
    lines = [("Demo", record["banner"])] if record.get("banner") else []
    return lines + [
        ("Generated", _when(record.get("exported_at"))),
        ("postercensus", f"version {record.get('postercensus_version')}"),
        ("Sources", _sources(record.get("sources") or [])),
        ("Model", _model(record.get("model_id"), record.get("models") or {})),
        ("Correction", _correction(record.get("model_id"), record.get("correction"))),
        ("Face detector", _detector(record.get("face_set"))),
        ("Text pipeline", _text(record.get("text_version") or {})),
    ]


def _when(iso: str | None) -> str:
    """'2026-12-07T20:55:12+00:00' → '2026-12-07 20:55:12 UTC'."""
    if not iso:
        return "unknown"
    return datetime.fromisoformat(iso).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _sources(sources: list[dict[str, Any]]) -> str:
    if not sources:
        return "none registered"
    return "; ".join(f"{source['key']} ({source['kind']}, {source['location']}), "
                     + (f"last harvested {_when(source['last_harvest_at'])}" if source.get("last_harvest_at")
                        else "no completed harvest")
                     for source in sources)


def _model(model_id: str | None, models: dict[str, dict[str, Any]]) -> str:
    if model_id is None or model_id not in models:
        return "none (no classifier has predicted these faces)"
    model = models[model_id]
    domain = (model.get("calibration") or {}).get("domain")
    return (f"{model_id}, version {model.get('model_version')}, domain "
            f"{domain or 'none declared (the model has no per-domain calibration)'}")


def _correction(model_id: str | None, correction: dict[str, Any] | None) -> str:
    """Which confusion corrected the shares ("card, domain posters, 220 out-of-fold faces", or "this
    collection's validation sample S, N labels (+ prior of K card faces)"), with why validation labels
    were not used when there are some and they were not."""
    if model_id is None:
        return "none (no classifier has predicted these faces)"
    if not correction:
        return "none: the shares are not corrected (the model has no held-out faces to correct with)"
    note = correction.get("note")
    return correction["description"] + (f"; {note}" if note else "")


def _detector(face_set: dict[str, Any] | None) -> str:
    if not face_set:
        return f"{NOT_YET} with the active [faces] settings"
    parameters = {key: value for key, value in (face_set.get("parameters") or {}).items() if key != "detector"}
    settings = ", ".join(f"{key}={value}" for key, value in sorted(parameters.items()))
    return f"{face_set['detector']} ({settings}); face set {face_set['parameter_hash']}"


def _text(text_version: dict[str, Any]) -> str:
    version_hash = text_version.get("version_hash")
    if not version_hash:
        return f"{NOT_YET} with the active [text] settings"
    version = (text_version.get("parameters") or {}).get("version") or {}
    parts = ", ".join(f"{name} {version[name]}" for name in ("model", "extractor", "lexicon") if version.get(name))
    return f"version {version_hash}" + (f" ({parts})" if parts else "")
