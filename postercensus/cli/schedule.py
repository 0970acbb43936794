"""`postercensus schedule print-cron|print-systemd`: print, never install, a daily refresh.

Printing leaves the choice of crontab or user/system units (and the review) to the researcher.
"""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from postercensus.cli.commandapp import CommandApp
from postercensus.catalog.home import Home
from postercensus.cli.context import CommandError, existing_home
from postercensus.catalog.layout import REFRESH_LOG_FILENAME
from postercensus.schedule import UNIT_NAME, cron_line, executable, systemd_units

schedule_app = CommandApp(
    help="Print a cron line or a systemd timer that runs `postercensus refresh` for this home daily, "
    f"logging to <home>/{REFRESH_LOG_FILENAME}.",
    no_args_is_help=True,
)

At = Annotated[str, typer.Option("--at", help="Time of day to run, HH:MM (local time).")]
Workers = Annotated[Optional[int], typer.Option("--workers", min=1, help="Passed to refresh: local face-detection processes.", show_default=False)]
Scheduler = Annotated[Optional[str], typer.Option("--scheduler", help="Passed to refresh: Dask scheduler address.", show_default=False)]


def _extra(workers: int | None, scheduler: str | None) -> list[str]:
    return ([f"--workers={workers}"] if workers else []) + ([f"--scheduler={scheduler}"] if scheduler else [])


@schedule_app.command("print-cron")
def print_cron(ctx: typer.Context, at: At = "03:00", workers: Workers = None, scheduler: Scheduler = None) -> None:
    """Print a crontab line (add it with `crontab -e`).

    Example: postercensus --home ~/wpa schedule print-cron --at 02:30
    """
    home: Home = ctx.obj
    try:
        line = cron_line(executable(), home.path, at, _extra(workers, scheduler))
    except ValueError as error:
        raise CommandError(str(error)) from error
    existing_home(ctx)  # a job for a home that is not there would fail every night
    typer.echo(line)


@schedule_app.command("print-systemd")
def print_systemd(ctx: typer.Context, at: At = "03:00", workers: Workers = None, scheduler: Scheduler = None) -> None:
    """Print a service and a timer unit, with where to save them and how to enable the timer.

    Example: postercensus --home ~/wpa schedule print-systemd > units.txt
    """
    home: Home = ctx.obj
    try:
        service, timer = systemd_units(executable(), home.path, at, _extra(workers, scheduler))
    except ValueError as error:
        raise CommandError(str(error)) from error
    existing_home(ctx)
    typer.echo(f"# ~/.config/systemd/user/{UNIT_NAME}.service\n{service}")
    typer.echo(f"# ~/.config/systemd/user/{UNIT_NAME}.timer\n{timer}")
    typer.echo(f"# then: systemctl --user daemon-reload && systemctl --user enable --now {UNIT_NAME}.timer\n"
               "# (and `loginctl enable-linger $USER` so it also runs while you are logged out)")
