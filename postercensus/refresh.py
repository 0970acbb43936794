"""`refresh`: every registered stage, in dependency order, each on what changed only.

The stages are incremental on their own and read their settings from the Home (the active
result sets: a refresh never changes what is active); this module only runs them in order under
the home's refresh lock and decides what a failure means. Harvests of different sources are
independent, and a failed harvest keeps what it read (the next refresh retries it), so it does
not hold back the stages after it: they work on what the catalogue holds. A failed stage skips
the stages that require it (`Stage.requires`) and leaves everything earlier in place, so the next
refresh simply continues. Each stage records its own run in the catalogue, as when run by hand.
A refresh killed outright (kill -9, power cut) is repaired by the next one: under the lock it
marks the killed process's open runs interrupted and removes its temp files before any stage.
Only news makes a refresh exit 2: a problem about an item that the previous run of the same
source or stage did not report. Problems that stand from earlier runs are summarised, exit 0.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from postercensus.catalog.home import Home
from postercensus.catalog.runs import RunStatus, close_interrupted_runs
from postercensus.catalog.stage import Stage, StageReport
from postercensus.catalog.tempfiles import sweep_orphans
from postercensus.runlock import refresh_lock
from postercensus.stages import refresh_stages

SKIPPED = "skipped"

EXIT_OK, EXIT_FAILED, EXIT_PARTIAL, EXIT_RUNNING = 0, 1, 2, 3


@dataclass
class RefreshReport:
    stages: list[StageReport]
    export_dir: Path
    dashboard: Path

    @property
    def exit_code(self) -> int:
        """0 all ok, also with only standing problems; 1 a stage failed (others may be skipped);
        2 finished, with a problem that the previous run of its source or stage did not report."""
        if any(result.status == RunStatus.FAILED for result in self.stages):
            return EXIT_FAILED
        return EXIT_PARTIAL if any(result.new_problems for result in self.stages) else EXIT_OK


def run_refresh(home: Home, scheduler: str | None = None, workers: int | None = None,
                console: Console | None = None) -> RefreshReport:
    """Every registered harvest, then keywords → faces → classify → text → analyze → export → dashboard.

    Raises runlock.RefreshRunning, having done nothing, when another refresh holds this home.
    """
    console = console or Console(stderr=True)
    report = RefreshReport([], home.layout.export, home.layout.dashboard)
    with refresh_lock(home.path):
        _clear_interrupted(home, console)
        finished: dict[str, str] = {}
        for stage in refresh_stages(home, scheduler, workers, console):
            blocked = [needed for needed in stage.requires if finished.get(needed) in (RunStatus.FAILED, SKIPPED)]
            if blocked:
                result = StageReport(stage.name, SKIPPED, note=f"{blocked[0]} did not finish; runs next refresh")
            else:
                result = _attempt(home, stage, console)
            finished[stage.name] = result.status
            report.stages.append(result)
    return report


def _clear_interrupted(home: Home, console: Console) -> None:
    """Close the run records and remove the temp files of a process killed before it could."""
    closed = close_interrupted_runs(home.engine, "refresh")
    if closed:
        console.print(f"marked {len(closed)} run(s) left open by a killed process as interrupted: "
                      + ", ".join(f"#{run_id}" for run_id in closed), highlight=False)
    removed = sweep_orphans(home.layout.written_folders())
    if removed:
        console.print(f"removed {len(removed)} temp file(s) left by a killed process", highlight=False)


def _attempt(home: Home, stage: Stage, console: Console) -> StageReport:
    """Run one stage; an exception becomes a failed result so the refresh can go on with what does not need it."""
    console.print(f"[bold]{stage.name}[/bold] …", highlight=False)
    try:
        return stage.run(home)
    except Exception as error:  # any stage's failure: reported and retried next time, never fatal here
        console.print(f"[red]{stage.name} failed[/red]: {type(error).__name__}: {error}", highlight=False)
        return StageReport(stage.name, RunStatus.FAILED, note=f"{type(error).__name__}: {error}")
