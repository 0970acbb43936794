"""Precision and recall of (gender, role lemma) pairs on 60 hand-labelled WPA poster descriptions.

The labels (tests/fixtures/wpa_hand_checked.json) were written by reading each description, not
by running the extractor; the descriptions themselves stay in ../shared/data (never copied).
"""
from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from postercensus.text.pipeline import TextPipeline
from postercensus.text.settings import TextSettings

FIXTURE = Path(__file__).parent / "fixtures" / "wpa_hand_checked.json"
WPA_CSV = Path("wpa-posters") / "posters-wpa-posters-2024-02-11.csv"
THRESHOLD = 0.9


def hand_checked_scores(pipeline: TextPipeline, csv_path: Path,
                        roles_only: bool = False) -> tuple[float, float, list[str]]:
    """(precision, recall, one line per disagreeing item) over per-item multisets of pairs;
    with `roles_only`, over the pairs that have a role (found or expected), so that the score
    says how well roles are found rather than how well gendered words are."""
    labels = json.loads(FIXTURE.read_text("utf-8"))["items"]
    with csv_path.open(newline="", encoding="utf-8") as handle:
        descriptions = {row["id"]: row["description"] for row in csv.DictReader(handle)}
    results = pipeline.process(descriptions[item["id"]] for item in labels)
    found_total = expected_total = correct = 0
    disagreements = []
    for item, result in zip(labels, results):
        found = Counter((m.gender, m.role_lemma) for m in result.mentions
                        if not m.in_title and (m.role_lemma or not roles_only))
        expected = Counter((gender, role) for gender, role in item["expected"] if role or not roles_only)
        correct += sum((found & expected).values())
        found_total += sum(found.values())
        expected_total += sum(expected.values())
        if found != expected:
            disagreements.append(f"{item['id']}: found {sorted(found.elements(), key=str)} "
                                 f"expected {sorted(expected.elements(), key=str)}")
    precision = correct / found_total if found_total else 1.0
    recall = correct / expected_total if expected_total else 1.0
    return precision, recall, disagreements


@pytest.fixture(scope="module")
def pipeline() -> TextPipeline:
    return TextPipeline(TextSettings())


def test_precision_and_recall_on_hand_checked_wpa_sample(pipeline: TextPipeline, shared_data: Path) -> None:
    precision, recall, disagreements = hand_checked_scores(pipeline, shared_data / WPA_CSV)
    report = "\n".join(disagreements)
    assert precision >= THRESHOLD, f"precision {precision:.3f}\n{report}"
    assert recall >= THRESHOLD, f"recall {recall:.3f}\n{report}"


def test_sample_is_sixty_distinct_items() -> None:
    ids = [item["id"] for item in json.loads(FIXTURE.read_text("utf-8"))["items"]]
    assert len(ids) == len(set(ids)) == 60
