"""One installed import name: `postercensus`, with the stage folders as its subpackages.

Checked from a folder outside the repository (so the checkout itself is not on the path), on the
editable install the tests run in, and on a wheel built from a copy of the sources.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STAGE_PACKAGES = ("catalog", "harvest", "faces", "classify", "text", "analysis", "dashboards")
IMPORT_REPORT = """
import importlib
for name in {names!r}:
    try:
        importlib.import_module(name)
        print(name, "imported")
    except ImportError:
        print(name, "missing")
"""


def _outside_env() -> dict[str, str]:
    """The environment without PYTHONPATH, so only what is installed can be imported."""
    return {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}


def _import_report(python: str, names: list[str], cwd: Path) -> dict[str, str]:
    done = subprocess.run([python, "-c", IMPORT_REPORT.format(names=names)], cwd=cwd, env=_outside_env(),
                          capture_output=True, text=True, check=True)
    return dict(line.split() for line in done.stdout.splitlines())


def test_only_postercensus_is_importable_outside_the_repository(tmp_path):
    names = [*STAGE_PACKAGES, *(f"postercensus.{name}" for name in STAGE_PACKAGES), "postercensus.cli"]
    report = _import_report(sys.executable, names, tmp_path)
    assert {name: report[name] for name in STAGE_PACKAGES} == dict.fromkeys(STAGE_PACKAGES, "missing")
    assert all(report[name] == "imported" for name in names if name.startswith("postercensus"))


def test_the_editable_install_maps_subpackages_to_the_top_level_folders(tmp_path):
    done = subprocess.run([sys.executable, "-c", "import postercensus.text as t; print(t.__file__)"], cwd=tmp_path,
                          env=_outside_env(), capture_output=True, text=True, check=True)
    assert Path(done.stdout.strip()) == REPO / "text" / "__init__.py"


def _source_copy(into: Path) -> Path:
    """The files a wheel is built from, copied out of the checkout so the build leaves no trace in it."""
    source = into / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    for folder in ("postercensus", *STAGE_PACKAGES):
        shutil.copytree(REPO / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return source


def test_the_wheel_installs_one_top_level_name(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
                    "-w", str(wheels), str(_source_copy(tmp_path))], check=True, capture_output=True, text=True)
    [wheel] = wheels.glob("postercensus-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        top_level = archive.read(next(n for n in names if n.endswith(".dist-info/top_level.txt"))).decode().split()
    assert top_level == ["postercensus"]
    roots = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert roots == {"postercensus"}
    for package in STAGE_PACKAGES:
        assert f"postercensus/{package}/__init__.py" in names
    assert "postercensus/classify/default_model/model.json" in names
    assert "postercensus/text/data/lexicon.toml" in names
