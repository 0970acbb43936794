"""The typed model card: every earlier card format reads into `ModelCard` and saves back key for key.

The fixtures (tests/fixtures/model_cards/) are the shipped card as it stood at each of its
formats (git history of classify/default_model/model.json, lists cut to three items), and cards
as `classify train` writes them (own faces, transfer with an ensemble and domains, VGGFace
fine-tuned), a registered card with its applied calibration, and the minimal test card.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from postercensus.classify.models import modelfolder

from postercensus.classify.train import domains
from postercensus.classify.models.modelcard import DomainCalibration, Ensemble, ModelCard, Training

FIXTURES = sorted((Path(__file__).parent / "fixtures" / "model_cards").glob("*.json"))


def test_there_is_a_fixture_of_each_card_format():
    assert {path.stem for path in FIXTURES} >= {
        "2026-default-head-only", "2026-default-images-sha256", "2026-default-domains-temperature",
        "2026-default-domains-shift", "trained-own-faces", "trained-transfer", "trained-vggface-fine-tuned",
        "registered-with-applied-calibration", "minimal-test-card"}


@pytest.mark.parametrize("path", FIXTURES, ids=[path.stem for path in FIXTURES])
def test_each_earlier_card_loads_typed_and_saves_back_key_for_key(path: Path):
    text = path.read_text(encoding="utf-8")
    card = ModelCard.loads(text)
    raw = json.loads(text)
    assert card.model_id == raw["model_id"] and card.labels == raw["labels"]
    assert card.dumps() == text
    assert list(card.to_dict()) == list(raw)
    if "training" in raw:
        assert isinstance(card.training, Training) and card.training.to_dict() == raw["training"]
    if "ensemble" in raw:
        assert isinstance(card.ensemble, Ensemble) and card.cnn_members == raw["ensemble"]["cnn_members"]
    for name, entry in (raw.get("domains") or {}).items():
        assert isinstance(card.domains[name], DomainCalibration)
        assert card.domains[name].temperature == entry["temperature"]
        assert card.domains[name].shift == entry.get("shift")


def test_a_domain_entry_with_only_a_temperature_has_no_shift():
    card = ModelCard.loads((FIXTURES[0].parent / "2026-default-domains-temperature.json").read_text(encoding="utf-8"))
    assert all(entry.shift is None and entry.recall is None for entry in card.domains.values())
    assert "shift" not in card.to_dict()["domains"]["posters"]


def test_the_shipped_card_round_trips_byte_for_byte_and_the_default_version_is_unchanged(tmp_path: Path):
    folder = modelfolder.default_model_folder()
    text = (folder / modelfolder.CARD_FILE).read_text(encoding="utf-8")
    card = modelfolder.read_card(folder)
    assert isinstance(card, ModelCard) and card.dumps() == text
    modelfolder.write_card(tmp_path, card)
    assert (tmp_path / modelfolder.CARD_FILE).read_bytes() == (folder / modelfolder.CARD_FILE).read_bytes()
    assert modelfolder.model_version(folder) == "6434dc45265e6f37"


def test_unknown_keys_are_kept_and_absent_keys_stay_absent():
    card = ModelCard.from_dict({"model_id": "m", "labels": ["a", "b"], "future_key": {"x": 1}, "evaluation": {"n": 2, "new": 3}})
    assert card.extra == {"future_key": {"x": 1}} and card.evaluation.extra == {"new": 3}
    assert card.to_dict() == {"model_id": "m", "labels": ["a", "b"], "future_key": {"x": 1}, "evaluation": {"n": 2, "new": 3}}
    assert card.domains is None and card.cnn_members == [] and card.cnn_share == 0.0


def test_a_field_set_on_a_card_is_written_after_the_keys_it_was_read_with():
    card = ModelCard.from_dict({"model_id": "m", "labels": ["female", "male"],
                                "domains": {"posters": {"temperature": 2.0}}})
    registered = domains.with_applied_calibration(card, "posters")
    assert list(registered.to_dict()) == ["model_id", "labels", "domains", "applied_calibration"]
    assert registered.applied_calibration["domain"] == "posters" and card.applied_calibration is None


def test_the_recipe_renders_the_shipped_model_card_page_from_the_typed_card():
    """The recipe writes MODEL_CARD.md from the card (classify/recipes/cardpage.py): from the typed card it
    gives the shipped page as it stands, so the recipe and the shipped model agree."""
    from postercensus.classify.recipes.cardpage import model_card

    folder = modelfolder.default_model_folder()
    assert model_card(modelfolder.read_card(folder)) == (folder / "MODEL_CARD.md").read_text(encoding="utf-8")


def test_no_benchmark_writes_a_model_card():
    """benchmarks/ only measures: the shipped model is written by classify/recipes/ alone."""
    benchmarks = Path(__file__).resolve().parents[1] / "benchmarks"
    writers = [path.name for path in benchmarks.glob("*.py") if "write_card" in path.read_text(encoding="utf-8")]
    assert writers == []
