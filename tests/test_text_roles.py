"""Roles of gendered heads in any sentence position: 40 hand-written sentences and the WPA sample.

The sentences (tests/fixtures/text_roles.csv, one row per expected mention) were written and
annotated by hand before the extractor ran on them: subject, object, prepositional, appositive and
predicate positions, verbless fragments, plural and coordinated heads, role nouns, and heads with
no role (pronouns are not mentions, so "She is a welder." expects none).
"""
from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from postercensus.text.pipeline import TextPipeline
from postercensus.text.settings import TextSettings
from tests.test_text_handchecked import WPA_CSV, hand_checked_scores

FIXTURE = Path(__file__).parent / "fixtures" / "text_roles.csv"
THRESHOLD = 0.9
# Role precision and recall on the 60 hand-checked WPA items before issue 21's role rules (21 of
# 22 roles found right, 21 of 24 expected found; benchmarks/results/text_roles.txt): no worse now.
WPA_ROLE_BEFORE = (21 / 22, 21 / 24)

Role = tuple[str, str, str]  # (gender, head in lower case, role lemma)


@dataclass(frozen=True)
class RoleScores:
    precision: float
    recall: float
    category_accuracy: float  # of the roles found correctly, the share with the expected category
    disagreements: list[str]


def expected_sentences() -> dict[str, tuple[str, list[dict[str, str]]]]:
    """sentence id → (sentence, its expected mention rows; empty when it expects none)."""
    sentences: dict[str, tuple[str, list[dict[str, str]]]] = {}
    with FIXTURE.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            _, rows = sentences.setdefault(row["sentence_id"], (row["sentence"], []))
            if row["gender"]:
                rows.append(row)
    return sentences


def role_scores(pipeline: TextPipeline) -> RoleScores:
    """Precision and recall of (gender, head, role lemma) over mentions that have a role, per sentence."""
    sentences = expected_sentences()
    results = pipeline.process(sentence for sentence, _ in sentences.values())
    found_total = expected_total = correct = category_right = 0
    disagreements = []
    for (key, (sentence, rows)), result in zip(sentences.items(), results):
        found = Counter((m.gender, m.trigger.lower(), m.role_lemma) for m in result.mentions if m.role_lemma)
        expected = Counter((r["gender"], r["head"].lower(), r["role"]) for r in rows if r["role"])
        matched = found & expected
        correct += sum(matched.values())
        found_total += sum(found.values())
        expected_total += sum(expected.values())
        categories = {(m.gender, m.trigger.lower(), m.role_lemma): m.category for m in result.mentions}
        wanted = {(r["gender"], r["head"].lower(), r["role"]): r["category"] for r in rows}
        right = sum(n for role, n in matched.items() if categories[role] == wanted[role])
        category_right += right
        if found != expected or right != sum(matched.values()):
            disagreements.append(f"{key} {sentence!r}: found {_describe(found, categories)} "
                                 f"expected {_describe(expected, wanted)}")
    return RoleScores(
        precision=correct / found_total if found_total else 1.0,
        recall=correct / expected_total if expected_total else 1.0,
        category_accuracy=category_right / correct if correct else 1.0,
        disagreements=disagreements,
    )


def _describe(roles: Counter[Role], categories: dict[Role, str | None]) -> list[str]:
    return sorted(f"{gender} {head} → {role} ({categories.get((gender, head, role))})"
                  for gender, head, role in roles.elements())


@pytest.fixture(scope="module")
def pipeline() -> TextPipeline:
    return TextPipeline(TextSettings())


def test_fixture_has_forty_sentences() -> None:
    assert len(expected_sentences()) == 40


def test_roles_in_any_position_on_forty_sentences(pipeline: TextPipeline) -> None:
    scores = role_scores(pipeline)
    report = "\n".join(scores.disagreements)
    assert scores.precision >= THRESHOLD, f"precision {scores.precision:.3f}\n{report}"
    assert scores.recall >= THRESHOLD, f"recall {scores.recall:.3f}\n{report}"
    assert scores.category_accuracy >= THRESHOLD, f"category accuracy {scores.category_accuracy:.3f}\n{report}"


def test_roles_do_not_get_worse_on_the_wpa_sample(pipeline: TextPipeline, shared_data: Path) -> None:
    precision, recall, disagreements = hand_checked_scores(pipeline, shared_data / WPA_CSV, roles_only=True)
    report = "\n".join(disagreements)
    before_precision, before_recall = WPA_ROLE_BEFORE
    assert precision >= before_precision, f"role precision {precision:.3f} < {before_precision:.3f}\n{report}"
    assert recall >= before_recall, f"role recall {recall:.3f} < {before_recall:.3f}\n{report}"
