"""The front door and the manual: README ≤ 200 lines, its set-up commands the ones CI and the
manual run, every page of docs/ in the nav, and `mkdocs build --strict` passing offline.

Why these checks: the README was cut down to a front door and its content moved to docs/; what
rots first in such a split is a page nobody links (not in the nav), a set-up command that
differs between the README, the manual and CI, and a site that fetches fonts or scripts from a
CDN, which would not read on an offline machine.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
DOCS = REPO / "docs"
MKDOCS_YML = REPO / "mkdocs.yml"
README_MAX_LINES = 200
SETUP_HEADING = "## Set-up: two commands"


def _setup_commands(markdown: str) -> list[str]:
    """The commands of the ```bash blocks under the README's set-up heading, in order."""
    section = markdown.split(SETUP_HEADING, 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, flags=re.S)]


def _nav_pages(nav: list) -> list[str]:
    """Every Markdown file the nav names, however deeply its sections nest."""
    pages: list[str] = []
    for entry in nav:
        values = entry.values() if isinstance(entry, dict) else [entry]
        for value in values:
            pages.extend(_nav_pages(value) if isinstance(value, list) else [value])
    return pages


def test_the_readme_is_a_front_door_of_at_most_200_lines():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; move detail into docs/"


def test_the_two_setup_commands_are_in_the_manual_and_ci_runs_the_test_command():
    commands = _setup_commands(README.read_text(encoding="utf-8"))
    assert len(commands) == 2, f"the README's set-up section should hold two commands, found {commands}"
    demo, tests = commands
    assert demo.endswith("postercensus demo")
    assert tests.endswith(".venv/bin/python -m pytest")
    getting_started = (DOCS / "getting-started.md").read_text(encoding="utf-8")
    for command in commands:
        assert command in getting_started, f"docs/getting-started.md lacks the README's set-up command {command!r}"
    ci_lines = [line.strip() for line in (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    assert tests in ci_lines, ".ci/run must run the README's test command as it is written"


def test_every_docs_page_is_in_the_nav_and_every_nav_page_exists():
    yaml = pytest.importorskip("yaml", reason="reading mkdocs.yml needs PyYAML (pip install -e '.[test]')")
    config = yaml.safe_load(MKDOCS_YML.read_text(encoding="utf-8"))
    in_nav = _nav_pages(config["nav"])
    assert len(in_nav) == len(set(in_nav)), "a page is listed twice in the nav"
    on_disk = sorted(str(page.relative_to(DOCS)) for page in DOCS.rglob("*.md"))
    assert sorted(in_nav) == on_disk, "docs/ pages and the nav differ"


def test_the_site_builds_strict_and_offline(tmp_path):
    pytest.importorskip("mkdocs", reason="the manual's build needs mkdocs (pip install -e '.[test]')")
    site = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(MKDOCS_YML),
                           "--site-dir", str(site)], cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    pages = list(site.rglob("*.html"))
    assert (site / "index.html").is_file() and (site / "notebook.html").is_file()
    remote = [f"{page.name}: {match}" for page in pages for match in
              re.findall(r'<(?:script|link)[^>]+(?:src|href)="(?:https?:)?//[^"]+"[^>]*>', page.read_text(encoding="utf-8"))
              if "rel=\"canonical\"" not in match]
    assert not remote, f"the site loads something from the network: {remote[:3]}"
    reference = (site / "notebook.html").read_text(encoding="utf-8")
    assert "perceived_gender" in reference and "TableView" in reference, "the notebook reference was not generated"
