"""Cron and systemd entries that run `postercensus refresh` for one home, daily.

Schedulers start commands with a bare environment and another working directory, so every
path is absolute (the executable and the home) and output goes to <home>/refresh.log, where a
researcher looks when the dashboard has not moved.
"""
from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path

from postercensus.catalog.layout import HomeLayout

UNIT_NAME = "postercensus-refresh"


def executable() -> Path:
    """The installed `postercensus` on PATH, else the script this process was started as."""
    found = shutil.which("postercensus")
    return Path(found or sys.argv[0]).resolve()


def parse_time(at: str) -> tuple[int, int]:
    """HH:MM → (hour, minute); ValueError says what is wrong."""
    try:
        hour, minute = (int(part) for part in at.split(":"))
    except ValueError:
        raise ValueError(f"--at must look like HH:MM, e.g. 03:30 (got {at!r})") from None
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ValueError(f"--at must be a time of day between 00:00 and 23:59 (got {at!r})")
    return hour, minute


def refresh_argv(program: Path, home: Path, extra: list[str]) -> list[str]:
    return [str(program), "--home", str(home), "refresh", *extra]


def cron_line(program: Path, home: Path, at: str, extra: list[str]) -> str:
    """One crontab line; `%` is escaped because cron turns it into a newline."""
    hour, minute = parse_time(at)
    command = " ".join(shlex.quote(arg) for arg in refresh_argv(program, home, extra))
    log = shlex.quote(str(HomeLayout(home).refresh_log))
    return f"{minute} {hour} * * * {command} >> {log} 2>&1".replace("%", r"\%")


def _systemd_quote(arg: str) -> str:
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"' if any(c.isspace() or c in "\"'\\" for c in arg) else arg


def systemd_units(program: Path, home: Path, at: str, extra: list[str]) -> tuple[str, str]:
    """(service, timer) unit files; exit codes 2 (item errors) and 3 (already running) are not unit failures."""
    hour, minute = parse_time(at)
    command = " ".join(_systemd_quote(arg) for arg in refresh_argv(program, home, extra))
    service = (
        "[Unit]\n"
        f"Description=postercensus refresh of {home}\n\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"WorkingDirectory={home}\n"
        f"ExecStart={command}\n"
        "SuccessExitStatus=2 3\n"
        f"StandardOutput=append:{HomeLayout(home).refresh_log}\n"
        f"StandardError=append:{HomeLayout(home).refresh_log}\n"
    )
    timer = (
        "[Unit]\n"
        f"Description=Daily postercensus refresh of {home}\n\n"
        "[Timer]\n"
        f"OnCalendar=*-*-* {hour:02d}:{minute:02d}:00\n"
        "Persistent=true\n\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )
    return service, timer
