"""Where everything lives inside a home folder: the one place its layout is spelled.

Every stage, the CLI, the dashboards and the refresh's clean-up of a killed run find a home's
files through `HomeLayout`, so moving a folder is one edit here, not a search through the code.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CONFIG_FILENAME = "postercensus.toml"
SQLITE_FILENAME = "catalog.sqlite"
IMAGES_DIRNAME = "images"          # content-addressed image files (`catalog.imagefiles`)
INCOMING_DIRNAME = "incoming"      # inside images/: downloads not yet renamed to their hash
CROPS_DIRNAME = "faces"            # <home>/faces/<parameter hash>/…: the aligned crops of each face set
TABLES_DIRNAME = "analysis"        # the tables `analyze` writes, with fingerprint.json
EXPORT_DIRNAME = "export"          # what `refresh` exports
DASHBOARD_FILENAME = "dashboard.html"
WEIGHTS_DIRNAME = "weights"        # VGGFace .h5 files a user puts here for `classify`
REFRESH_LOCK_FILENAME = ".refresh.lock"
REFRESH_LOG_FILENAME = "refresh.log"
DEMO_COLLECTION_DIRNAME = "demo-collection"


@dataclass(frozen=True)
class HomeLayout:
    """The paths of one home folder."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / CONFIG_FILENAME

    @property
    def sqlite(self) -> Path:
        return self.root / SQLITE_FILENAME

    @property
    def images(self) -> Path:
        return self.root / IMAGES_DIRNAME

    @property
    def incoming(self) -> Path:
        return self.images / INCOMING_DIRNAME

    @property
    def crops(self) -> Path:
        return self.root / CROPS_DIRNAME

    @property
    def tables(self) -> Path:
        return self.root / TABLES_DIRNAME

    @property
    def export(self) -> Path:
        return self.root / EXPORT_DIRNAME

    @property
    def dashboard(self) -> Path:
        return self.root / DASHBOARD_FILENAME

    @property
    def weights(self) -> Path:
        return self.root / WEIGHTS_DIRNAME

    @property
    def refresh_lock(self) -> Path:
        return self.root / REFRESH_LOCK_FILENAME

    @property
    def refresh_log(self) -> Path:
        return self.root / REFRESH_LOG_FILENAME

    @property
    def demo_collection(self) -> Path:
        return self.root / DEMO_COLLECTION_DIRNAME

    def written_folders(self) -> Iterator[Path]:
        """Every folder a stage writes files into (where a killed run can leave temp files)."""
        yield from (self.root, self.incoming, self.tables, self.export)
        if self.crops.is_dir():
            yield from (folder for folder in self.crops.rglob("*") if folder.is_dir())
            yield self.crops
