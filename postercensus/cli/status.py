"""`postercensus status`: what the catalogue holds, what the tables read, and the problems that stand.

The counts come from `postercensus.homestatus` (the notebook's `home.status()` reads the same
summary); this module only prints them, as a table or as JSON.
"""
from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from postercensus.cli.context import existing_home
from postercensus.homestatus import status_summary


def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Counts of items, images and runs in the catalogue, the last run, and the problems that stand.

    Also what the tables read (the active face set, predictions and text version); once a validation
    sample exists, the corrected share's 95 % half-width now and with 50, 100 and 200 more validation
    labels (capped at the faces left unlabelled); and, where two or more coders labelled the same
    faces, their agreement (Krippendorff's alpha, percent agreement) and the faces to adjudicate.
    """
    context = existing_home(ctx)
    summary = status_summary(context)
    last = summary["last_run"]
    if as_json:
        print(json.dumps(summary, indent=2))
        return
    table = Table(title=f"postercensus catalogue — {context.path}")
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, value in summary.items():
        if isinstance(value, int):
            table.add_row(key.replace("_", " "), f"{value:,}")
    console = Console()
    console.print(table)
    console.print(f"catalogue: {summary['catalog']}")
    for face_set in summary["face_sets"]:
        console.print(
            f"faces, result set {face_set['parameter_hash']} ({face_set['detector']}): {face_set['faces']:,} faces "
            f"in {face_set['images_scanned']:,} images ({face_set['images_failed']:,} unreadable)"
        )
    for model in summary["classifiers"]:
        counts = ", ".join(f"{label} {n:,}" for label, n in sorted(model["labels"].items())) or "no predictions"
        console.print(f"classifier {model['model_id']} ({model['model_version']}): {counts}")
    for version in summary["text_versions"]:
        counts = ", ".join(f"{gender} {n:,}" for gender, n in sorted(version["mentions"].items())) or "no mentions"
        console.print(f"text, version {version['version_hash']}: {version['items_scanned']:,} items scanned; {counts}")
    for line in _active_lines(summary["active"]):
        console.print(line, highlight=False, markup=False)
    need = summary.get("validation_need")
    if need:
        console.print(_need_line(need), highlight=False, markup=False)
    for agreement in summary["coding_agreement"]:  # where two or more coders labelled the same faces
        console.print(f"intercoder agreement, {agreement['line']}", highlight=False, markup=False)
    for scope in summary["standing_problems"]:
        where = scope["source"] or scope["stage"]
        for kind, problems in scope["kinds"].items():
            console.print(f"standing problems of {where} (run #{scope['last_run']}): {problems['count']:,} {kind} "
                          f"since run #{problems['first_seen_run']}, e.g. {problems['examples'][0]}",
                          highlight=False, markup=False)
    if last is not None:
        console.print(f"last run: #{last['id']} {last['stage']} — {last['status']}")


def _need_line(need: dict) -> str:
    """The corrected share's interval half-width now and with more validation labels (issue 23)."""
    if "error" in need:
        return f"validation sample: {need['error']}"
    now = f"corrected {need['label']} share: ±{need['half_width']:.3f} (95 %), corrected with {need['correction']}; "
    if not need["with_more_labels"]:
        return now + "no face is left without a validation label: no more to draw"
    more = ", ".join(f"+{extra}: ±{width:.3f}" for extra, width in need["with_more_labels"].items())
    left = need["faces_left"]
    capped = f" ({left:,}: every face still without a validation label)" if max(need["with_more_labels"]) == left else ""
    return now + f"expected with more validation labels {more}{capped}"


def _active_lines(active: dict) -> list[str]:
    """What the tables read: each stage's active settings ([faces], [classify], [text] in postercensus.toml)."""
    def settings(table: dict) -> str:
        return ", ".join(f"{key}={value}" for key, value in table.items()) or "defaults"

    if "error" in active:
        return [f"active result sets: {active['error']}"]
    faces, classify, text = active["faces"], active["classify"], active["text"]
    return [
        f"active face set: {faces['parameter_hash'] or 'none yet (run faces detect or refresh)'} "
        f"([faces] {settings(faces['settings'])})",
        f"active predictions: {classify['model_id']} {classify['model_version']}"
        f"{'' if classify['predicted'] else ' (none stored yet)'} ([classify] {settings(classify['settings'])})",
        f"active text version: {text['version_hash'] or 'none yet (run text extract or refresh)'} "
        f"([text] {settings(text['settings'])})",
    ]
