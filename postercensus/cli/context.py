"""What every command needs: the opened home (`catalog.home.Home`), and the CLI's own error."""
from __future__ import annotations

import os
from pathlib import Path

import typer

from postercensus.catalog.home import Home
from postercensus.catalog.stage import StageError


class CommandError(StageError):
    """A usage or input problem a command finds itself; printed like every StageError
    ("Error: what went wrong, what to do"), exit code 1."""


def existing_home(ctx: typer.Context) -> Home:
    """The home the command line names, which must exist (`NoHome`, exit 2, before any work):
    every command that reads a catalogue starts here, so a mistyped --home is refused, not created."""
    home: Home = ctx.obj
    return home.require()


def writable_folder(path: Path, what: str) -> None:
    """Refuse, before any work, a folder output that cannot be written: a file, or a path under a
    file or in a folder without write permission. `what` names the argument (e.g. "OUTDIR")."""
    if path.exists() and not path.is_dir():
        raise CommandError(f"{what} {path} is a file, not a folder", "choose a new or existing folder")
    _writable_folder_at(path if path.is_dir() else _nearest_existing(path), path, what)


def writable_file(path: Path, what: str) -> None:
    """Refuse, before any work, a file output that cannot be written: a folder, a file without
    write permission, or a path under a file or in a folder without write permission."""
    if path.is_dir():
        raise CommandError(f"{what} {path} is a folder", "give the path of a file to write")
    if path.exists() and not os.access(path, os.W_OK):
        raise CommandError(f"{what} {path} cannot be overwritten (no write permission)", "choose another path")
    _writable_folder_at(_nearest_existing(path), path, what)


def _nearest_existing(path: Path) -> Path:
    """The nearest path above `path` that exists (the folders between are to be created)."""
    parent = path.absolute().parent
    while not parent.exists():
        parent = parent.parent
    return parent


def _writable_folder_at(parent: Path, path: Path, what: str) -> None:
    """`parent`, where `path` is to be written, must be a folder this process can write into."""
    if not parent.is_dir():
        raise CommandError(f"{what} {path} cannot be created: {parent} is a file, not a folder",
                           "choose a path under a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise CommandError(f"{what} {path} cannot be created: no permission to write in {parent}",
                           "choose a folder you can write to")
