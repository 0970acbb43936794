"""The result sets the tables read: the home's active ones, named by settings in postercensus.toml.

`[faces]`, `[classify]` and `[text]` hold the settings of the active face set, predictions and
text version (empty tables: each stage's defaults). The tables read the face set stored with
exactly those detector settings, the active model's predictions for the active domain, and the
mentions of the latest text run with those text settings — never simply "the latest run", so a
run with other settings (`faces detect --upsample 2`) or a nightly refresh never changes what the
tables show. Settings are compared, not hashes, so no detector or language model is loaded here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from postercensus.catalog.config import HomeConfig
from postercensus.catalog.settings import settings_in
from postercensus.classify.activeset import ClassifySettings
from postercensus.faces.settings import FaceSettings
from postercensus.text.settings import TextSettings


@dataclass(frozen=True)
class ActiveSets:
    faces: FaceSettings = field(default_factory=FaceSettings)
    classify: ClassifySettings = field(default_factory=ClassifySettings)
    text: TextSettings = field(default_factory=TextSettings)

    @classmethod
    def of(cls, config: HomeConfig | None) -> ActiveSets:
        """The active sets a home's config names (None: no config, every stage's defaults)."""
        if config is None:
            return cls()
        return cls(settings_in(config, FaceSettings), settings_in(config, ClassifySettings),
                   settings_in(config, TextSettings))

    def describe(self) -> dict[str, Any]:
        """What provenance.json and `status` say is active (settings that differ from the defaults)."""
        def changed(settings: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
            return {key: value for key, value in settings.items() if value != defaults[key]}

        return {"faces": self.faces.to_config(),
                "classify": changed(self.classify.to_config(), ClassifySettings().to_config()),
                "text": changed(self.text.to_config(), TextSettings().to_config())}
