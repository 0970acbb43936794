"""`postercensus source list|remove`: a home's sources, and taking one away (catalog.sources)."""
from __future__ import annotations

import json
import shlex
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from postercensus.catalog.runs import iso_utc
from postercensus.catalog.sources import Removal, SourceEntry, list_sources, remove_source
from postercensus.cli.commandapp import CommandApp
from postercensus.cli.context import CommandError, existing_home
from postercensus.runlock import RefreshRunning, refresh_lock

source_app = CommandApp(
    help="List the sources of a home (what `refresh` harvests, and what the catalogue holds), or remove one.",
    no_args_is_help=True,
)

# What a purge reports, in this order: (table, words for its rows).
PURGED = (("items", "items"), ("images", "image rows"), ("faces", "faces"), ("predictions", "predictions"),
          ("face_labels", "hand labels"), ("mentions", "mentions"), ("runs", "harvest runs"))


def _when(entry: SourceEntry) -> str:
    """The last complete harvest to the second, in UTC."""
    if entry.last_harvest is None:
        return "never"
    return datetime.fromisoformat(iso_utc(entry.last_harvest)).strftime("%Y-%m-%d %H:%M:%S UTC")


@source_app.command("list")
def source_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Every source: key, kind, location, items, last harvest, and whether `refresh` harvests it.

    The key is what `source remove` takes; items are the live ones in the catalogue; the last
    harvest is the last one that read the whole listing. A removed source whose items stay is
    listed too ("refreshed: no").

    Example: postercensus --home ~/wpa source list
    """
    context = existing_home(ctx)
    entries = list_sources(context)
    if as_json:
        print(json.dumps([{"key": e.key, "kind": e.kind, "location": e.location, "items": e.items,
                           "last_harvest": iso_utc(e.last_harvest) if e.last_harvest else None,
                           "refreshed": e.registered} for e in entries], indent=2))
        return
    console = Console(soft_wrap=True)
    if not entries:
        console.print(f"no sources in {context.path}; add one with `postercensus --home "
                      f"{shlex.quote(str(context.path))} harvest csv|oai|iiif|folder …`", highlight=False)
        return
    for entry in entries:  # the key on a line of its own, whole, to copy into `source remove`
        refreshed = "yes" if entry.registered else "no (removed; its items stay)"
        console.print(entry.key, highlight=False, markup=False)
        console.print(f"  kind {entry.kind} · location {entry.location} · items {entry.items:,} · "
                      f"last harvest {_when(entry)} · refreshed {refreshed}", highlight=False, markup=False)


@source_app.command("remove")
def source_remove(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="The source's key, as `source list` shows it.")],
    purge: Annotated[bool, typer.Option(
        "--purge", help="Also delete the source's items, their image files (unless another source's item shows "
        "the same image), faces, predictions, hand labels and mentions, and its harvest runs.")] = False,
) -> None:
    """Stop harvesting a source: it leaves postercensus.toml, so `refresh` no longer harvests it.

    Its items stay in the catalogue (and in the tables) unless --purge is given; a purge happens in
    one transaction and keeps everything another source's items share.
    Example: postercensus --home ~/wpa source remove csv:/data/wpa/posters.csv --purge
    """
    context = existing_home(ctx)
    if purge:
        try:
            with refresh_lock(context.path):  # a refresh harvesting this source must not run beside the purge
                removal = remove_source(context, key, purge=True)
        except RefreshRunning as running:
            raise CommandError(str(running)) from running
    else:
        removal = remove_source(context, key)
    _print_removal(Console(soft_wrap=True), context.path, removal, purge)


def _print_removal(console: Console, home: Path, removal: Removal, purge: bool) -> None:
    where = shlex.quote(str(home))
    said = (f"removed {removal.key} from postercensus.toml: `refresh` no longer harvests it" if removal.unregistered
            else f"{removal.key} was not registered: `refresh` did not harvest it")
    if not purge:
        console.print(said, highlight=False, markup=False)
        console.print(f"its {removal.kept_items:,} items stay in the catalogue and in the tables; "
                      f"`postercensus --home {where} source remove {shlex.quote(removal.key)} --purge` deletes them",
                      highlight=False, markup=False)
        return
    if not removal.purged:
        console.print(f"{said}; the catalogue held nothing of it", highlight=False, markup=False)
        return
    counts = ", ".join(f"{removal.purged.get(table, 0):,} {words}" for table, words in PURGED)
    console.print(said, highlight=False, markup=False)
    console.print(f"purged: {counts} deleted; {removal.files_removed:,} files (images, face crops) removed; "
                  "other sources' items, and image files they share, are kept", highlight=False, markup=False)
    for problem in removal.file_errors:
        console.print(f"could not remove {problem} (unused now; delete it by hand)", style="yellow",
                      highlight=False, markup=False)
    console.print(f"the tables and the dashboard still count them until `postercensus --home {where} refresh` "
                  "(or `analyze`) runs", highlight=False, markup=False)
