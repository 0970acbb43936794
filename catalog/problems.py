"""Problems a run met, kept while they last, so that only a new one counts as news.

A scheduled refresh meets the same missing files every night; a scheduler that hears "failed"
every night stops listening. So each problem has a stable key (what it is about: a file, an
item's image, a record; never the error text, which can change between attempts), and the
`problems` table holds what the latest run of each scope reported (a scope is a harvest's
source, or a processing stage), with the run that first reported each problem. A run's problem
whose key its scope's previous run did not report is new; the others are standing.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, func, select

from postercensus.catalog import schema

EXAMPLES = 3  # messages `status` shows per kind
_CHUNK = 500  # ids per IN (...) list: well under every database's parameter limit


class ProblemKind:
    RECORD_SKIPPED = "record_skipped"  # a record that could not be catalogued
    RECORD_WARNING = "record_warning"  # a record stored with a part left out (e.g. a date naming no year)
    IMAGE_FAILED = "image_failed"  # a download or verification that failed
    IMAGE_MISSING = "image_missing"  # a local file the source names does not exist
    ITEM_ERROR = "item_error"  # a processing stage's per-item error; its message is its key


@dataclass(frozen=True)
class Problem:
    kind: str
    key: str
    message: str


def item_errors(messages: Iterable[str]) -> list[Problem]:
    """A processing stage's error messages as problems: each names its image, face or item and a
    stable cause (e.g. "faces/ab/…jpg: cannot read the stored file (No such file…)")."""
    return [Problem(ProblemKind.ITEM_ERROR, message, message) for message in messages]


@dataclass(frozen=True)
class KindCount:
    """One kind of problem a run reported: how many its scope's previous run had not, and how many it had."""

    kind: str
    new: int
    standing: int
    first_seen_run: int | None  # the earliest run that reported one of the standing ones


def _scope(stage: str, source_id: int | None) -> ColumnElement[bool]:
    table = schema.problems
    source = table.c.source_id.is_(None) if source_id is None else table.c.source_id == source_id
    return (table.c.stage == stage) & source


def _chunks(values: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]


def record_problems(connection: Connection, run_id: int, problems: Iterable[Problem], complete: bool) -> None:
    """Store what run `run_id` reported against its scope's previous runs.

    A complete run (it finished, with or without item errors) also forgets its scope's problems
    it did not meet again: they are solved. A failed run saw only part of its work, so it keeps them.
    """
    table, runs = schema.problems, schema.runs
    run = connection.execute(select(runs.c.stage, runs.c.source_id).where(runs.c.id == run_id)).one()
    scope = _scope(run.stage, run.source_id)
    known = {(row.kind, row.key): row.id
             for row in connection.execute(select(table.c.id, table.c.kind, table.c.key).where(scope))}
    reported = {(problem.kind, problem.key): problem for problem in problems}
    for chunk in _chunks([known[key] for key in reported if key in known]):
        connection.execute(table.update().where(table.c.id.in_(chunk)).values(last_run_id=run_id))
    new = [{"stage": run.stage, "source_id": run.source_id, "kind": problem.kind, "key": problem.key,
            "message": problem.message, "first_run_id": run_id, "last_run_id": run_id}
           for key, problem in reported.items() if key not in known]
    if new:
        connection.execute(table.insert(), new)
    if complete:
        connection.execute(table.delete().where(scope, table.c.last_run_id != run_id))


def run_problem_counts(engine: Engine, run_id: int) -> list[KindCount]:
    """Per kind, the new and the standing problems run `run_id` reported (read right after the run)."""
    table = schema.problems
    with engine.connect() as connection:
        rows = connection.execute(
            select(table.c.kind, table.c.first_run_id, func.count()).where(table.c.last_run_id == run_id)
            .group_by(table.c.kind, table.c.first_run_id).order_by(table.c.kind, table.c.first_run_id)).all()
    counts: dict[str, KindCount] = {}
    for kind, first_run, count in rows:
        before = counts.get(kind, KindCount(kind, 0, 0, None))
        if first_run == run_id:
            counts[kind] = KindCount(kind, count, before.standing, before.first_seen_run)
        else:
            counts[kind] = KindCount(kind, before.new, before.standing + count, before.first_seen_run or first_run)
    return list(counts.values())


def standing_problems(engine: Engine) -> list[dict[str, Any]]:
    """For `status`: per scope (source or stage), the problems its latest run reported, by kind:
    how many, the run that first reported one of them, and a few messages."""
    table, sources = schema.problems, schema.sources
    with engine.connect() as connection:
        groups = connection.execute(
            select(table.c.stage, table.c.source_id, sources.c.key, table.c.kind, func.count(),
                   func.min(table.c.first_run_id), func.max(table.c.last_run_id))
            .outerjoin(sources, sources.c.id == table.c.source_id)
            .group_by(table.c.stage, table.c.source_id, sources.c.key, table.c.kind)
            .order_by(table.c.stage, table.c.source_id, table.c.kind)).all()
        scopes: dict[tuple[str, int | None], dict[str, Any]] = {}
        for stage, source_id, source, kind, count, first, last in groups:
            examples = connection.execute(
                select(table.c.message).where(_scope(stage, source_id), table.c.kind == kind)
                .order_by(table.c.id).limit(EXAMPLES)).scalars().all()
            scope = scopes.setdefault((stage, source_id), {"source": source, "stage": stage, "last_run": last,
                                                          "kinds": {}})
            scope["last_run"] = max(scope["last_run"], last)
            scope["kinds"][kind] = {"count": count, "first_seen_run": first, "examples": list(examples)}
    return list(scopes.values())
