"""postercensus: corpus analytics for digitized poster collections.

The one installed import name. The stages are its subpackages (`postercensus.catalog`,
`postercensus.harvest`, `postercensus.faces`, `postercensus.classify`, `postercensus.text`,
`postercensus.analysis`, `postercensus.dashboards`); this module is the notebook API:

    import postercensus as pc
    home = pc.open("~/nk")
    t = home.tables(year_from=1950, min_probability=0.7)
    t.by_year()
    pc.find_faces("poster.jpg")

Beside this module: where the API names below are defined (`notebook`, `standalone`); the orchestration both
the API and the command line call (`stages`: the registry of every stage; `refresh` and its
`runlock`; `schedule`: the cron/systemd lines; `homestatus`: what `status` reports); the command
line in `cli/` (one module per command group); the demo collection in `demo/`.

The names below are imported on first use, so `import postercensus.catalog` (which every stage
does) never loads OpenCV, TensorFlow or spaCy.
"""
from __future__ import annotations

import importlib
from typing import Any

# public name → the module that defines it
_API = {
    "open": "postercensus.notebook",
    "NotebookHome": "postercensus.notebook",
    "TableView": "postercensus.notebook",
    "NoHome": "postercensus.notebook",
    "find_faces": "postercensus.standalone",
    "perceived_gender": "postercensus.standalone",
    "mentions": "postercensus.standalone",
    "Face": "postercensus.standalone",
    "Mention": "postercensus.standalone",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'postercensus' has no attribute {name!r}")
    value = getattr(importlib.import_module(_API[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
