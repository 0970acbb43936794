"""Shared fixtures: the real data under ../shared/data (skipped with a reason when absent),
catalogue URLs on SQLite and PostgreSQL, a chromium page; and the markers that let a contributor
run a fast subset (`pytest -m "not slow"`, see docs/contributing.md).

Markers are set here from what a test uses, so a new test is marked without anyone remembering:
`browser` when it takes the `browser` fixture, `postgres` for the PostgreSQL variant of
`catalog_urls`; `slow` from measured durations (`SLOW_MODULES`, `SLOW_TESTS`).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from postercensus.catalog.database import default_url
from tests.support import postgres
from tests.support.browser import BrowserPage, chromium_page
from tests.support.slowtests import SLOW_MODULES, SLOW_TESTS

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real test data; tests that need it skip when this checkout has no ../shared/data."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA} (CI provides ../shared/data)")
    return SHARED_DATA


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty postercensus home for one test."""
    return tmp_path / "home"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def catalog_urls(request) -> Iterator[Callable[[Path], str]]:
    """Makes the catalogue URL for a home, once per database kind: the default SQLite file in the
    home, or a fresh PostgreSQL database (dropped after the module; skipped without a server)."""
    if request.param == "sqlite":
        yield default_url
        return
    server = postgres.server_url()
    if server is None:
        pytest.skip(postgres.SKIP_REASON)
    with ExitStack() as databases:
        yield lambda _home: databases.enter_context(postgres.fresh_database(server))



@pytest.fixture(scope="module")
def running_site(shared_data: Path):
    """The real IIIF fixtures served from 127.0.0.1 (one server per test module)."""
    from tests.support.iiifsite import IiifSite

    with IiifSite(shared_data / "iiif") as site:
        yield site


@pytest.fixture
def site(running_site):
    """`running_site`, with the previous test's injected documents and failures cleared."""
    running_site.reset()
    return running_site


@pytest.fixture
def browser() -> Iterator[BrowserPage]:
    """A fresh headless chromium page (`tests.support.browser`); skips the test when none can be
    driven. Its tests carry the `browser` marker."""
    with chromium_page() as page:
        yield page


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by what it uses (see the module docstring)."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("catalog_urls") == "postgresql":
            item.add_marker(pytest.mark.postgres)
        module = item.path.name
        if module in SLOW_MODULES or f"{module}::{item.originalname}" in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
