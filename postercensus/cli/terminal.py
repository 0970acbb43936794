"""What every long command shares: a progress bar, the list of problems, a face executor."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from postercensus.faces.executors import FaceExecutor, make_executor
from postercensus.cli.context import CommandError

MAX_ERRORS_SHOWN = 10


def progress_bar(console: Console) -> Progress:
    """A bar that clears itself when done; off when output is not a terminal, where rich would
    draw nothing but leave a blank line at the top of the command's output."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=console, transient=True, disable=not console.is_interactive)


def print_errors(console: Console, errors: list[str]) -> None:
    if errors:
        console.print(f"[yellow]{len(errors)} problem(s)[/yellow]; the first {min(len(errors), MAX_ERRORS_SHOWN)}:")
        for message in errors[:MAX_ERRORS_SHOWN]:
            console.print(f"  - {message}", markup=False, highlight=False)


@contextmanager
def face_executor(workers: int | None, scheduler: str | None) -> Iterator[FaceExecutor]:
    """Local processes (default), inline (--workers 1) or a Dask cluster; closed on the way out."""
    try:
        executor = make_executor(workers, scheduler)
    except ConnectionError as error:
        raise CommandError(str(error)) from error
    try:
        yield executor
    finally:
        executor.close()
