"""The contract every stage keeps, so `refresh`, the CLI and a notebook drive them all the same way.

A stage has a name, the names of the stages whose results it reads (`requires`), its settings as
the Home gives them (`settings`), how much work is new (`pending`), and `run`, which does that
work and returns one `StageReport`. Failures a user can act on are `StageError`s carrying a hint;
the CLI turns any of them into one `Error: …` line, in one place.

One report type for every stage and for its run record (`catalog.runs.recorded_run` closes the
run from it): what a stage knows beyond status, counts and errors is a typed `facts` object of
its own (e.g. `faces.stage.FaceFacts`), read by attribute, so a renamed fact fails in a type
check and not as a missing string key at the end of a long run.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, runtime_checkable

from sqlalchemy import Engine

from postercensus.catalog.problems import KindCount, run_problem_counts

if TYPE_CHECKING:
    from postercensus.catalog.home import Home

# The one progress callback: called with the number of units just finished (images, faces, items,
# files, rows), as work goes on. Every stage, `faces scan`, `text phrases` and classify's steps use it.
Progress = Callable[[int], None]

Facts = TypeVar("Facts")


class StageError(Exception):
    """A failure the user can act on: what went wrong, and (`hint`) what to do next."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message


@dataclass
class StageReport(Generic[Facts]):
    """What one run of any stage did: its status (a `catalog.runs.RunStatus` value, or `skipped`),
    counts, a note, its run record (None for stages that keep none), the problems it reported and
    the stage's own typed `facts` (None where a stage has none, or was skipped or failed).

    A stage fills the report as it works: `recorded_run` sets the final status and stores the
    counts and errors with the run, so what the run record says and what is printed are one object.
    """

    stage: str
    status: str
    counts: dict[str, int] = field(default_factory=dict)
    note: str = ""
    run_id: int | None = None
    errors: list[str] = field(default_factory=list)
    problems: list[KindCount] = field(default_factory=list)
    facts: Facts | None = None

    def count(self, name: str, added: int = 1) -> None:
        """Add `added` to the count `name` (a count first added is created at 0)."""
        self.counts[name] = self.counts.get(name, 0) + added

    @property
    def new_problems(self) -> int:
        return sum(kind.new for kind in self.problems)


@runtime_checkable
class Stage(Protocol):
    """One step of the pipeline (see the module docstring)."""

    name: str
    requires: tuple[str, ...]

    def settings(self, home: Home) -> Any:
        """The settings this stage runs with: its own, else the home's active ones."""

    def pending(self, home: Home) -> int | None:
        """How many units of work are new (None: not known before running, e.g. a harvest)."""

    def run(self, home: Home, progress: Progress | None = None) -> StageReport:
        """Do the new work; `progress` is called as units finish."""


def with_run_problems(engine: Engine, report: StageReport) -> StageReport:
    """`report` with the problems its run recorded (new and standing, by kind) and a note counting them."""
    if report.run_id is None:
        return report
    problems = run_problem_counts(engine, report.run_id)
    if not problems:
        return report
    new, standing = sum(kind.new for kind in problems), sum(kind.standing for kind in problems)
    note = f"{new:,} new problem(s), {standing:,} standing; stored with run #{report.run_id}"
    report.problems = problems
    report.note = "; ".join(filter(None, (report.note, note)))
    return report
