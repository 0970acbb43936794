"""analysis/compare.py: two groups and their difference, on a catalogue built so the true difference
is known.

Ten agriculture posters (source "farms", the 1930s) show 100 faces, 66 decided female; ten industry
posters (source "factories", the 1950s) show 100 faces, 24 decided female. With the confusion of
tests/support/sharesdb.py (corrected female = (q − 0.1) / 0.7) agriculture is 0.8 female, industry
0.2, and industry − agriculture is −0.6.
"""
from __future__ import annotations

import pytest

from postercensus.analysis.compare import COMPARE_COLUMNS, compare, quotable
from postercensus.analysis.face_tables import by_gender
from postercensus.analysis.filters import FilterError, Filters
from postercensus.analysis.load import load_tables
from tests.support.sharesdb import Face, Poster, build

ARGMAX = Filters(min_probability=0.0)


def posters(year: int, keyword: str, source: str, female: int) -> list[Poster]:
    """Ten posters of ten faces each, `female` of the hundred decided female."""
    labels = ["female"] * female + ["male"] * (100 - female)
    return [Poster(year + index % 10, (keyword, "poster"), (1000, 1000),
                   tuple(Face((10 * k, 10 * k, 10 * k + 8, 10 * k + 8), labels[10 * index + k]) for k in range(10)),
                   source=source)
            for index in range(10)]


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    home = tmp_path_factory.mktemp("compare") / "home"
    return load_tables(build(home, posters(1930, "agriculture", "farms", 66) + posters(1950, "industry", "factories", 24)))


@pytest.mark.parametrize("by, a, b", [("keyword", "agriculture", "industry"), ("source", "farms", "factories"),
                                      ("decade", "1930s", "1950")])
def test_the_difference_interval_contains_the_known_difference(tables, by, a, b):
    table = compare(tables, by, a, b, ARGMAX)
    assert list(table.columns) == COMPARE_COLUMNS
    female = table[table["label"] == "female"].set_index("group")
    assert list(female.index) == ["A", "B", "B-A"]
    assert (female.loc["A", "faces"], female.loc["B", "faces"], female.loc["B-A", "faces"]) == (66, 24, 90)
    assert female.loc["A", "corrected_share"] == pytest.approx(0.8)
    assert female.loc["B", "corrected_share"] == pytest.approx(0.2)
    difference = female.loc["B-A"]
    assert difference["corrected_share"] == pytest.approx(-0.6)
    assert difference["ci_low"] < -0.6 < difference["ci_high"]
    # the joint bootstrap keeps the shared rate error once: narrower than the groups' bounds combined
    assert difference["ci_low"] > female.loc["B", "ci_low"] - female.loc["A", "ci_high"]
    assert difference["ci_high"] < female.loc["B", "ci_high"] - female.loc["A", "ci_low"]
    male = table[(table["label"] == "male") & (table["group"] == "B-A")].iloc[0]
    assert male["corrected_share"] == pytest.approx(0.6)


def test_group_rows_are_the_groups_own_tables(tables):
    table = compare(tables, "keyword", "agriculture", "industry", ARGMAX)
    alone = by_gender(tables, Filters(keywords=("agriculture",), min_probability=0.0)).set_index("label")
    group = table[table["group"] == "A"].set_index("label")
    for column in ("faces", "corrected_share", "ci_low", "ci_high"):
        assert group.loc["female", column] == pytest.approx(alone.loc["female", column])


def test_the_quotable_line_names_groups_shares_and_difference(tables):
    line = quotable(compare(tables, "keyword", "agriculture", "industry", ARGMAX))
    assert line.startswith("female share: agriculture 0.80 [")
    assert " vs industry 0.20 [" in line and "; difference −0.60 [−" in line


def test_a_decade_is_named_as_the_user_named_it(tables):
    table = compare(tables, "decade", "1930s", "1950", ARGMAX)
    assert list(table["value"].drop_duplicates()) == ["1930s", "1950", "1950 − 1930s"]
    assert quotable(table).startswith("female share: 1930s 0.80 [") and " vs 1950 0.20 [" in quotable(table)


@pytest.mark.parametrize("by, value, close", [("keyword", "agricultur", "'agriculture'"),
                                              ("source", "farm", "'farms'"), ("decade", "1940", "'1930'")])
def test_an_unknown_group_is_refused_naming_close_matches(tables, by, value, close):
    with pytest.raises(FilterError, match=f"no selected item has the {by} '{value}'; close matches: .*{close}"):
        compare(tables, by, value, "industry" if by == "keyword" else "factories" if by == "source" else "1950",
                ARGMAX)


def test_an_unknown_grouping_is_refused(tables):
    with pytest.raises(FilterError, match="cannot group by 'year'; use one of keyword, source, decade"):
        compare(tables, "year", "1930", "1950", ARGMAX)


@pytest.fixture(scope="module")
def home(tables):
    return tables.home


def test_the_command_prints_the_line_and_where_the_csv_went(home, tmp_path):
    import pandas as pd

    from tests.support.cli import run_cli

    out = tmp_path / "cmp.csv"
    result = run_cli(home, "compare", "--by", "keyword", "agriculture", "industry", "--out", str(out),
                     "--min-probability", "0")
    assert result.exit_code == 0, result.output
    assert "female share: agriculture 0.80 [" in result.stdout and "difference −0.60 [−" in result.stdout
    assert f"comparison written to {out.resolve()}" in result.stdout
    written = pd.read_csv(out)
    assert list(written.columns) == COMPARE_COLUMNS and list(written["group"].unique()) == ["A", "B", "B-A"]
    default = run_cli(home, "compare", "--by", "source", "farms", "factories", "--min-probability", "0")
    assert default.exit_code == 0, default.output
    assert (home / "comparisons" / "source-farms-vs-factories.csv").exists()


def test_the_command_refuses_an_unknown_group_in_one_line(home):
    from tests.support.cli import run_cli

    result = run_cli(home, "compare", "--by", "keyword", "agricultur", "industry")
    assert result.exit_code == 1
    assert result.stderr.strip() == ("Error: no selected item has the keyword 'agricultur'; close matches: "
                                     "'agriculture'")
    assert not (home / "comparisons").exists() or not list((home / "comparisons").glob("keyword-*"))


def test_a_difference_at_the_edge_stays_within_minus_one_and_one():
    from postercensus.analysis.compare import difference
    from postercensus.classify.prevalence.estimate import ConfusionMatrix

    confusion = ConfusionMatrix(("female", "male"), ("female", "male"), [[80, 20], [10, 90]])
    point, low, high = difference(confusion, {"female": 0, "male": 50}, {"female": 50, "male": 0}, 0)
    assert point == pytest.approx(1.0)  # A corrected to 0 female, B to 1
    assert -1.0 <= low <= point <= high <= 1.0 and low > 0.5


def test_a_group_without_faces_has_no_difference():
    from postercensus.analysis.compare import difference
    from postercensus.classify.prevalence.estimate import ConfusionMatrix

    confusion = ConfusionMatrix(("female", "male"), ("female", "male"), [[80, 20], [10, 90]])
    with pytest.raises(ValueError, match="at least one decided face"):
        difference(confusion, {"female": 0, "male": 0}, {"female": 5, "male": 5}, 0)
