"""The rules between rooms that docs/architecture.md states, checked on the source.

Why a test: the layering (stages import `catalog` and plain libraries, never each other upward;
`dashboards` reads `analysis` tables only; the rooms inside `classify/` import in one direction)
is what lets a stage change without the others; a review misses an import added in passing.
Imports under `if TYPE_CHECKING:` are annotations only and do not count.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROOMS = ("catalog", "harvest", "faces", "classify", "text", "analysis", "dashboards")


def _imported_modules(path: Path) -> set[str]:
    """Every `postercensus.*` module the file imports at run time (module level or inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    annotation_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            annotation_only.update(id(child) for child in ast.walk(node))
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in annotation_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name for name in names if name.startswith("postercensus.")}


def _room_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ROOMS else None


def _imports_by_file(folder: str) -> dict[str, set[str]]:
    return {str(path.relative_to(ROOT)): _imported_modules(path) for path in sorted((ROOT / folder).rglob("*.py"))}


# What each room may import at run time, besides itself and `catalog`.
ALLOWED = {
    "catalog": set(),
    "harvest": set(),
    "faces": set(),
    "text": set(),
    "classify": {"faces"},  # face crops are found and aligned as the face stage finds them
    "analysis": {"classify", "faces", "text"},  # tables read the stages' stored results and the correction
    "dashboards": {"analysis"},
}


@pytest.mark.parametrize("room", ROOMS)
def test_a_room_imports_only_the_rooms_below_it(room: str):
    allowed = ALLOWED[room] | {room, "catalog"} if room != "catalog" else {"catalog"}
    crossing = {file: sorted(m for m in modules if _room_of(m) not in allowed | {None})
                for file, modules in _imports_by_file(room).items()}
    assert not {file: modules for file, modules in crossing.items() if modules}


def test_no_library_room_imports_the_command_line_or_the_notebook_api():
    for room in ROOMS:
        for file, modules in _imports_by_file(room).items():
            assert not [m for m in modules if _room_of(m) is None], file


# Inside classify/: the subpackages a subpackage may import at run time.
CLASSIFY_ROOMS = {"models": set(), "prevalence": set(), "train": {"models", "prevalence"},
                  "label": {"models", "train", "prevalence"}, "recipes": {"models", "train", "prevalence", "label"}}


@pytest.mark.parametrize("inner", sorted(CLASSIFY_ROOMS))
def test_the_rooms_inside_classify_import_in_one_direction(inner: str):
    allowed = CLASSIFY_ROOMS[inner] | {inner}
    for file, modules in _imports_by_file(f"classify/{inner}").items():
        classify_modules = [m.split(".") for m in modules if m.startswith("postercensus.classify.")]
        crossing = [".".join(parts) for parts in classify_modules if parts[2] not in allowed]
        assert not crossing, f"{file} imports {crossing}"
