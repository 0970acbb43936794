"""The evaluation report: contact sheets of the model's best and worst calls, and a self-contained page.

Numbers alone do not show *which* faces fail; the seed study looked at its top false positives
and negatives per label, and so can the researcher here (thumbnails inlined, no external files).
"""
from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

from postercensus.classify.models.facesamples import FaceSample
from postercensus.classify.train.overlap import overlap_lines

SHEET_SIZE = 8  # faces per contact sheet
THUMBNAIL = 96


def contact_sheets(true: Sequence[str], probabilities: np.ndarray, labels: Sequence[str],
                   names: Sequence[str]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Per label: the most confident true positives, false positives and false negatives."""
    predicted = probabilities.argmax(axis=1)
    sheets: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for k, label in enumerate(labels):
        is_true = np.array([t == label for t in true])
        kinds = {
            "true_positives": np.flatnonzero(is_true & (predicted == k)),
            "false_positives": np.flatnonzero(~is_true & (predicted == k)),
            "false_negatives": np.flatnonzero(is_true & (predicted != k)),
        }
        sheets[label] = {}
        for kind, indices in kinds.items():
            # Most confident mistakes first: the ones a threshold would not catch.
            order = indices[np.argsort(-probabilities[indices].max(axis=1))][:SHEET_SIZE]
            sheets[label][kind] = [
                {"index": int(i), "name": names[i], "true": true[i], "predicted": labels[int(predicted[i])],
                 "probability": round(float(probabilities[i].max()), 4)}
                for i in order
            ]
    return sheets


def _thumbnail(sample: FaceSample) -> str:
    image = Image.fromarray(sample.crop_rgb(THUMBNAIL))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def gap_name(labels: Sequence[str]) -> str:
    """What `recall_gap` measures (classify.train.metrics.recall_gap): first − second label, or lowest − highest."""
    return f"recall gap ({labels[0]} − {labels[1]})" if len(labels) == 2 else "recall gap (lowest − highest)"


def calibration_words(calibration: dict[str, Any] | None, domain: str | None) -> str:
    """'calibrated for posters (temperature 0.99, shift male −0.62)', or that the probabilities are the model's own."""
    if not calibration:
        return "the model's own probabilities (its card does not calibrate per domain)"
    shift = ", ".join(f"{label} {value:+.2f}" for label, value in (calibration.get("shift") or {}).items() if value)
    return f"calibrated for {domain} (temperature {calibration['temperature']:g}" + (f", shift {shift})" if shift else ")")


def _metrics_section(title: str, report: dict[str, Any]) -> str:
    labels = report["confusion"]["labels"]
    summary = [report["n"], report["accuracy"], report["balanced_accuracy"]]
    header = ["faces", "accuracy", "balanced accuracy"]
    if "recall_gap" in report:
        header += [f"recall {label}" for label in labels] + [gap_name(labels)]
        summary += [report["recall"][label] for label in labels] + [f"{report['recall_gap']:+.4f}"]
    parts = [f"<h2>{html.escape(title)}</h2>",
             *([f"<p>Probabilities {html.escape(calibration_words(report['calibration'], report.get('domain')))}.</p>"]
               if "calibration" in report else []),
             _table(header, [summary]),
             _table(["label", "precision", "recall", "F1", "support"],
                    [[label, s["precision"], s["recall"], s["f1"], s["support"]] for label, s in report["per_class"].items()]),
             "<p>Confusion matrix (rows: true label, columns: predicted)</p>",
             _table(["true \\ predicted", *labels], [[label, *row] for label, row in zip(labels, report["confusion"]["matrix"])])]
    return "".join(parts)


def _overlap_section(overlap: dict[str, Any], n: int) -> str:
    """Said before any figure: how many faces trained the model, and the figures without them."""
    lines = overlap_lines(overlap, n)
    css = "warning" if not overlap["known"] or overlap["count"] else "ok"
    parts = ["<h2>Training overlap</h2>", *(f"<p class='{css}'>{html.escape(line)}</p>" for line in lines)]
    if overlap["known"]:
        unseen = overlap["unseen"]
        parts.append(_table(["faces the model trained on", "share", "unseen faces", "accuracy on unseen",
                             "balanced accuracy on unseen"],
                            [[overlap["count"], overlap["share"], unseen["faces"],
                              "–" if unseen["accuracy"] is None else unseen["accuracy"],
                              "–" if unseen["balanced_accuracy"] is None else unseen["balanced_accuracy"]]]))
    return "".join(parts)


def _recalls(figures: dict[str, Any], key: str) -> str:
    recall = figures.get(key)
    return " / ".join(f"{value:.3f}" for value in recall.values()) if recall else "–"


def _domains_section(figures: dict[str, dict[str, Any]]) -> str:
    """The model card's own out-of-fold figures per domain, beside this folder's."""
    rows = [[domain, f["n"], f["accuracy"], f["balanced_accuracy"], _recalls(f, "recall_before_calibration"),
             _recalls(f, "recall"), "–" if f.get("recall_gap") is None else f"{f['recall_gap']:+.4f}",
             f["ece_before_calibration"], f["ece"], calibration_words(f, domain)] for domain, f in figures.items()]
    return ("<h2>Model card: out-of-fold figures per domain</h2>"
            "<p>From the model card, not from this folder: each domain's faces the model was not trained on, "
            "calibrated by a fit on other groups where the card says cross-fitted. Recall per label in the "
            "card's label order.</p>"
            + _table(["domain", "faces", "accuracy", "balanced accuracy", "recall before calibration", "recall",
                      "recall gap", "ECE before calibration", "ECE after calibration", "calibration"], rows))


def render_html(report: dict[str, Any], samples: Sequence[FaceSample], title: str) -> str:
    """One offline page: training overlap, metrics, distribution, calibration, baseline and the contact sheets."""
    sections = [_overlap_section(report["training_overlap"], report["n"])] if "training_overlap" in report else []
    sections.append(_metrics_section("Classifier", report))
    if report.get("model_card_domains"):
        sections.append(_domains_section(report["model_card_domains"]))
    distribution = report["distribution"]
    sections.append("<h2>Real vs predicted labels</h2>" + _table(
        ["label", "real", "predicted"],
        [[label, distribution["true"][label], distribution["predicted"][label]] for label in distribution["true"]]))
    sections.append(f"<h2>Calibration (ECE {report['ece']})</h2>" + _table(
        ["top probability", "faces", "mean probability", "accuracy"],
        [[f"{row['low']:.1f}–{row['high']:.1f}", row["n"], row["mean_confidence"], row["accuracy"]]
         for row in report["reliability"]]))
    if report.get("baseline_fisherfaces"):
        sections.append(_metrics_section("Baseline: Fisherfaces (PCA + LDA on grey pixels)", report["baseline_fisherfaces"]))
    sections.append("<h2>Contact sheets</h2>")
    for label, kinds in report["contact_sheets"].items():
        for kind, faces in kinds.items():
            cells = "".join(
                f'<figure><img src="{_thumbnail(samples[face["index"]])}" alt="{html.escape(face["name"])}">'
                f'<figcaption>{html.escape(face["name"])}<br>{html.escape(face["predicted"])} {face["probability"]:.2f}'
                f"</figcaption></figure>"
                for face in faces
            ) or "<p>none</p>"
            sections.append(f"<h3>{html.escape(label)}: {kind.replace('_', ' ')}</h3><div class='sheet'>{cells}</div>")
    style = ("body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;margin:.5em 0}"
             "td,th{border:1px solid #bbb;padding:.2em .6em;text-align:right}.sheet{display:flex;flex-wrap:wrap}"
             "figure{margin:.3em;width:110px;font-size:.75em;text-align:center}figure img{width:96px;height:96px}"
             ".warning{background:#fff3cd;border:1px solid #e0b000;padding:.4em .6em}")
    note = ("<p>Perceived gender is an annotation of how a face is depicted, not a person's identity. "
            "Accuracy differs between groups and between photographs and drawings: read the contact sheets.</p>")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head><body><h1>{html.escape(title)}</h1>{note}{''.join(sections)}</body></html>")
