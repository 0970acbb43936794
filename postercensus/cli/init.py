"""`postercensus init`: create an empty home (the one command whose only job is that)."""
from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from postercensus.catalog.config import resolve_home
from postercensus.catalog.home import Home


def init(
    ctx: typer.Context,
    directory: Annotated[Optional[Path], typer.Argument(
        help="The home folder to create (default: --home, else $POSTERCENSUS_HOME, else ./postercensus-home).",
        show_default=False)] = None,
) -> None:
    """Create an empty home: the folder, its postercensus.toml and the catalogue.

    Every other command (but `harvest …` and `demo`) reads an existing home only, and exits
    with code 2 when there is none. Running it on an existing home changes nothing.
    Example: postercensus init ~/pc
    """
    context: Home = ctx.obj if directory is None else ctx.obj.elsewhere(resolve_home(directory), None)
    created = context.initialise()
    console = Console(soft_wrap=True)
    if not created:
        console.print(f"a postercensus home already exists at {context.path}; nothing changed", highlight=False)
        return
    console.print(f"[bold]home created[/bold]: {context.path}", highlight=False)
    console.print(f"catalogue: {context.database_display}", highlight=False)
    console.print(f"next: postercensus --home {shlex.quote(str(context.path))} harvest csv|oai|iiif|folder …  "
                  "(then `refresh` runs every stage)", highlight=False)
