"""Run records: every stage run is stored with its parameters, versions, counts and errors.

This is the provenance a researcher cites: which code, which settings, when, and what failed.
A run killed mid-way cannot close its own record; it stays `running` until the next refresh
marks it `interrupted` (`close_interrupted_runs`), so no reader takes it for a finished run.
"""
from __future__ import annotations

import platform
from datetime import datetime, timezone
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata as package_metadata
from typing import Any, Iterable

from sqlalchemy import Engine, select

from postercensus.catalog import schema
from postercensus.catalog.problems import Problem, item_errors, record_problems
from postercensus.catalog.stage import StageReport

MAX_STORED_ERRORS = 1000
_VERSIONED_PACKAGES = ("postercensus", "sqlalchemy", "sickle", "requests", "pillow", "lxml", "numpy", "dlib-bin",
                       "face_recognition_models", "opencv-python-headless", "distributed", "tensorflow-cpu",
                       "keras", "h5py")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso_utc(stamp: datetime) -> str:
    """ISO 8601 in UTC with its zone; SQLite returns the stages' UTC times without it, so it is put back."""
    return (stamp.replace(tzinfo=timezone.utc) if stamp.tzinfo is None else stamp.astimezone(timezone.utc)).isoformat()


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages whose behaviour shapes a run's results."""
    versions = {"python": platform.python_version()}
    for name in _VERSIONED_PACKAGES:
        try:
            versions[name] = package_metadata.version(name)
        except package_metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


class RunStatus:
    RUNNING = "running"
    OK = "ok"
    PARTIAL = "partial"  # finished, but some items/images failed
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # its process ended without closing it (kill -9, power cut); never finished


def start_run(engine: Engine, stage: str, parameters: dict[str, Any], source_id: int | None = None) -> int:
    with engine.begin() as connection:
        result = connection.execute(
            schema.runs.insert().values(
                stage=stage,
                source_id=source_id,
                parameters=parameters,
                versions=package_versions(),
                started_at=utcnow(),
                status=RunStatus.RUNNING,
            )
        )
        return result.inserted_primary_key[0]


def finish_run(engine: Engine, run_id: int, status: str, counts: dict[str, int], errors: list[str],
               problems: Iterable[Problem] = ()) -> None:
    """Close a run; only the first MAX_STORED_ERRORS messages are kept, with the total count.

    `problems` are the errors about single items, keyed (catalog.problems): all of them are kept
    with the scope's problems, in the same transaction, so a run never closes without them.
    """
    stored_errors = {"total": len(errors), "messages": errors[:MAX_STORED_ERRORS]}
    with engine.begin() as connection:
        connection.execute(
            schema.runs.update()
            .where(schema.runs.c.id == run_id)
            .values(finished_at=utcnow(), status=status, counts=counts, errors=stored_errors)
        )
        record_problems(connection, run_id, problems, complete=status != RunStatus.FAILED)


def close_interrupted_runs(engine: Engine, found_by: str) -> list[int]:
    """Mark every run still `running` as interrupted; returns their ids.

    Call only while holding the home's refresh lock, before starting any run: then no refresh
    owns an open run, so each one is left by a process that died. A stage started by hand beside
    the refresh would be marked too, but its own `finish_run` overwrites the mark when it ends.
    `finished_at` stays empty: when the process died is not known.
    """
    runs = schema.runs
    note = {"total": 1, "messages": [f"interrupted: its process ended before closing the run (found by {found_by}"
                                     f" at {utcnow().isoformat(timespec='seconds')})"]}
    with engine.begin() as connection:
        open_runs = list(connection.execute(
            select(runs.c.id).where(runs.c.status == RunStatus.RUNNING).order_by(runs.c.id)).scalars())
        if open_runs:
            connection.execute(runs.update().where(runs.c.id.in_(open_runs), runs.c.status == RunStatus.RUNNING)
                               .values(status=RunStatus.INTERRUPTED, errors=note))
    return open_runs


@contextmanager
def recorded_run(engine: Engine, run_id: int, report: StageReport[Any]) -> Iterator[None]:
    """Close run `run_id` however the block ends: ok, partial (item errors) or failed (re-raised),
    with the counts and errors of `report` (the stage's one report, filled as it works).

    Every error the stage reported is an item error (catalog.problems); a stop is not.
    """
    problems: list[Problem] = []
    try:
        yield
    except BaseException as error:
        report.status = RunStatus.FAILED
        problems = item_errors(report.errors)
        report.errors.append(f"run stopped: {type(error).__name__}: {error}")
        raise
    else:
        report.status = RunStatus.PARTIAL if report.errors else RunStatus.OK
        problems = item_errors(report.errors)
    finally:
        finish_run(engine, run_id, report.status, report.counts, report.errors, problems)


def latest_run(engine: Engine) -> dict[str, Any] | None:
    with engine.connect() as connection:
        row = connection.execute(
            select(schema.runs).order_by(schema.runs.c.id.desc()).limit(1)
        ).mappings().first()
    return dict(row) if row else None
