"""The model card (`model.json`) as a typed object: its fields by name, its JSON unchanged.

Why typed: the card was a `dict[str, Any]` read by string key across classify, analysis,
dashboards and the CLI, so a misspelt key or an older card lacking one failed far from the cause.
Here each section is a dataclass; a key a card lacks is `None` (or the section's stated default)
and says so by type.

Why the JSON must come back byte for byte: the model's version is a hash of its folder, card
included (`modelfolder.model_version`), and the same card is stored in the catalogue once per
version. Each section therefore remembers the order of the keys it was read with and keeps any
key it does not know (`extra`), so `ModelCard.from_dict(d).to_dict() == d`, key for key and in
order, for every earlier card format (tests/fixtures/model_cards/) as for the shipped one. A key
absent from the card stays absent when saved; a field set on a new card is written after the
keys read, in field order.
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

_S = TypeVar("_S", bound="Section")
_BOOKKEEPING = ("extra", "order")


@dataclass
class Section:
    """A JSON object with named fields; unknown keys kept in `extra`, the keys' order in `order`."""

    _NESTED: ClassVar[dict[str, type[Section]]] = {}  # field → section type of its value
    _NESTED_MAPS: ClassVar[dict[str, type[Section]]] = {}  # field → section type of each value of its mapping

    @classmethod
    def from_dict(cls: type[_S], data: Mapping[str, Any]) -> _S:
        """The section read from its JSON object (nested sections typed too)."""
        names = {f.name for f in dataclasses.fields(cls) if f.name not in _BOOKKEEPING}
        known = {key: cls._typed(key, value) for key, value in data.items() if key in names}
        extra = {key: value for key, value in data.items() if key not in names}
        return cls(**known, extra=extra, order=tuple(data))  # type: ignore[call-arg]

    @classmethod
    def _typed(cls, key: str, value: Any) -> Any:
        if value is None:
            return None
        if key in cls._NESTED:
            return cls._NESTED[key].from_dict(value)
        if key in cls._NESTED_MAPS:
            return {name: cls._NESTED_MAPS[key].from_dict(entry) for name, entry in value.items()}
        return value

    def to_dict(self) -> dict[str, Any]:
        """The section as its JSON object: the keys read, in their order, then fields set since."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in _BOOKKEEPING}
        extra: dict[str, Any] = getattr(self, "extra")
        keys = [*getattr(self, "order"), *(name for name, value in values.items() if value is not None),
                *extra]
        out: dict[str, Any] = {}
        for key in keys:
            if key in out:
                continue
            if key in values and (values[key] is not None or key in getattr(self, "order")):
                out[key] = _plain(values[key])
            elif key in extra:
                out[key] = extra[key]
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, Section):
        return value.to_dict()
    if isinstance(value, dict) and value and all(isinstance(entry, Section) for entry in value.values()):
        return {name: entry.to_dict() for name, entry in value.items()}
    return value


def _extra() -> Any:
    return field(default_factory=dict, repr=False)


def _order() -> Any:
    return field(default=(), repr=False, compare=False)


@dataclass
class BackboneSpec(Section):
    """The feature extractor the head runs on (dlib or VGGFace) and, for VGGFace, its weights' hash."""

    name: str | None = None
    dimensions: int | None = None
    versions: dict[str, str] | None = None
    weights_sha256: str | None = None
    extra: dict[str, Any] = _extra()
    order: tuple[str, ...] = _order()


@dataclass
class HeadSpec(Section):
    """The head's training settings (`classify.models.head.HeadSettings`)."""

    hidden: int | None = None
    dropout: float | None = None
    learning_rate: float | None = None
    batch_size: int | None = None
    max_epochs: int | None = None
    patience: int | None = None
    fine_tune_learning_rate: float | None = None
    fine_tune_epochs: int | None = None
    seed: int | None = None
    extra: dict[str, Any] = _extra()
    order: tuple[str, ...] = _order()


@dataclass
class Ensemble(Section):
    """The depicted-face CNNs averaged with the head, and their share of the average."""

    cnn_share: float | None = None
    cnn_members: list[str] | None = None
    cnn_settings: list[dict[str, Any]] | None = None
    share_chosen_by: str | None = None
    extra: dict[str, Any] = _extra()
    order: tuple[str, ...] = _order()

    @property
    def members(self) -> list[str]:
        """The CNN file stems (none: the head alone)."""
        return list(self.cnn_members or [])

    @property
    def share(self) -> float:
        return float(self.cnn_share or 0.0)


@dataclass
class Training(Section):
    """What the model learnt from: data, counts, face settings, history, recipe, image hashes."""

    data: str | None = None
    faces: int | None = None
    per_domain: dict[str, int] | None = None
    per_label: dict[str, int] | None = None
    faces_taken_whole: int | None = None
    face_settings: dict[str, Any] | None = None
    history: dict[str, Any] | None = None
    recipe: str | None = None
    images_sha256: dict[str, Any] | None = None
    validation_labels: dict[str, Any] | None = None  # trained from the catalogue: whether validation labels were in
    catalogue_faces: list[list[Any]] | None = None  # trained from the catalogue: [face id, image SHA-256] of each face
    extra: dict[str, Any] = _extra()
    order: tuple[str, ...] = _order()


@dataclass
class Evaluation(Section):
    """The held-out evaluation (`classify.train.metrics.evaluate_predictions` and the decision's confusion)."""

    n: int | None = None
    labels: list[str] | None = None
    accuracy: float | None = None
    balanced_accuracy: float | None = None
    per_class: dict[str, dict[str, Any]] | None = None
    confusion: dict[str, Any] | None = None
    distribution: dict[str, Any] | None = None
    reliability: list[dict[str, Any]] | None = None
    ece: float | None = None
    threshold: float | None = None
    decision_confusion: dict[str, Any] | None = None
    extra: dict[str, Any] = _extra()
    order: tuple[str, ...] = _order()


@dataclass
class DomainCalibration(Section):
    """One domain's calibration (temperature, shift per label) and its out-of-fold faces and figures
    (`classify.train.domains.domain_entry`); an older card's entry has only the temperature."""

    calibration: str | None = None
    temperature: float | None = None
    shift: dict[str, float] | None = None
    held_out_predictions: dict[str, Any] | None = None
    n: int | None = None
    accuracy: float | None = None
    balanced_accuracy: float | None = None
    recall: dict[str, float] | None = None
    recall_gap: float | None = None
    ece: float | None = None
    ece_before_calibration: float | None = None
    recall_before_calibration: dict[str, float] | None = None
    cross_fitted: bool | None = None
    calibration_faces: int | None = None  # a transferred model's: how many of the researcher's faces it was refitted on
    extra: dict[str, Any] = _extra()
    order: tuple[str, ...] = _order()


@dataclass
class ModelCard(Section):
    """A model's card: labels, backbone, head, ensemble, training, evaluation, per-domain calibration."""

    _NESTED: ClassVar[dict[str, type[Section]]] = {
        "backbone": BackboneSpec, "head": HeadSpec, "ensemble": Ensemble, "training": Training,
        "evaluation": Evaluation}
    _NESTED_MAPS: ClassVar[dict[str, type[Section]]] = {"domains": DomainCalibration}

    format: int | None = None
    model_id: str | None = None
    labels: list[str] | None = None
    backbone: BackboneSpec | None = None
    fine_tuned: bool | None = None
    head: HeadSpec | None = None
    ensemble: Ensemble | None = None
    training: Training | None = None
    evaluation: Evaluation | None = None
    evaluation_note: str | None = None
    held_out_predictions: dict[str, Any] | None = None
    domains: dict[str, DomainCalibration] | None = None
    evaluation_photographs: dict[str, Any] | None = None
    baseline_fisherfaces: dict[str, Any] | None = None
    transfer: dict[str, Any] | None = None
    licence: str | None = None
    created_at: str | None = None
    postercensus_version: str | None = None
    domains_note: str | None = None
    applied_calibration: dict[str, Any] | None = None  # in a registered card: the domain its predictions used
    extra: dict[str, Any] = _extra()
    order: tuple[str, ...] = _order()

    @classmethod
    def of(cls, card: ModelCard | Mapping[str, Any]) -> ModelCard:
        """`card` typed: a ModelCard as it is, a JSON object (from a file, the catalogue or a test) read."""
        return card if isinstance(card, ModelCard) else cls.from_dict(card)

    @classmethod
    def loads(cls, text: str) -> ModelCard:
        return cls.from_dict(json.loads(text))

    def dumps(self) -> str:
        """The card's JSON as `model.json` holds it (indent 2, UTF-8 kept): byte-identical on a round trip."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    @property
    def label_list(self) -> list[str]:
        """The labels (empty when the card names none)."""
        return list(self.labels or [])

    @property
    def name(self) -> str:
        """The model id, or '?' for a card that lacks one (in messages)."""
        return self.model_id or "?"

    @property
    def backbone_name(self) -> str | None:
        return self.backbone.name if self.backbone else None

    @property
    def cnn_members(self) -> list[str]:
        """The ensemble's CNN file stems (none without an ensemble)."""
        return self.ensemble.members if self.ensemble else []

    @property
    def cnn_share(self) -> float:
        return self.ensemble.share if self.ensemble else 0.0
