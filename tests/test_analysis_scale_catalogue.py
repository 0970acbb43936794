"""The scale benchmark's synthetic catalogue is what its figures in docs/benchmarks-pipeline.md claim to measure.

`benchmarks/analysis_scale.py` times `analyze` and the dashboard on a synthetic catalogue; its
figures mean something only if that catalogue has the stated shape (N items, 2N predicted faces,
N/2 mentions) and every table is computed from it, corrected shares included. Checked on a small N
(no timing: timings never belong in tests).
"""
from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

from postercensus.analysis.cache import analyze
from postercensus.analysis.filters import Filters
from postercensus.analysis.load import load_tables
from postercensus.analysis.tables import by_gender, by_keyword, by_year
from postercensus.catalog.database import default_url, open_engine
from postercensus.catalog.home import Home

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "analysis_scale.py"
ITEMS = 400


@pytest.fixture(scope="module")
def scale():
    spec = importlib.util.spec_from_file_location("analysis_scale", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def home(scale, tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("scale")
    scale.synthesise(default_url(home), ITEMS)
    return home


def test_the_catalogue_has_the_stated_shape(home):
    tables = load_tables(open_engine(default_url(home)), home)
    assert len(tables.items) == ITEMS
    assert tables.faces["face_id"].nunique() == 2 * ITEMS
    assert tables.faces["model_id"].notna().all()  # every face predicted
    assert len(tables.mentions) == ITEMS // 2
    years = tables.items["year"].dropna()
    assert 1900 <= years.min() and years.max() <= 1990
    assert set(tables.items["face_status"]) <= {"scanned", "not_scanned", "failed", "no_image"}
    assert tables.items["face_status"].eq("scanned").mean() > 0.9


def test_every_table_is_computed_with_corrected_shares(home):
    tables = load_tables(open_engine(default_url(home)), home)
    for filters in (Filters(), Filters(min_probability=0.7)):
        shares = by_gender(tables, filters).set_index("label")["corrected_share"]
        assert not math.isnan(shares["female"]) and shares[["female", "male"]].sum() == pytest.approx(1)
    assert by_year(tables)["year"].between(1900, 1990).all()
    assert len(by_keyword(tables)["keyword"].unique()) == 20


def test_analyze_writes_the_export(home):
    report = analyze(Home(home))
    assert report.status == "ok"
    assert (home / "analysis" / "agreement_summary.csv").exists()
