"""`postercensus text extract|phrases`: gendered noun phrases in descriptions (spaCy).

spaCy is imported only inside these commands: loading it takes seconds the other stages never
need. Both commands read the [text] table of <home>/postercensus.toml, so a lexicon extended
there applies to the catalogue and to a plain CSV alike.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from postercensus.cli.commandapp import CommandApp
from postercensus.catalog.home import Home
from postercensus.cli.context import CommandError, existing_home, writable_file
from postercensus.cli.terminal import print_errors, progress_bar

text_app = CommandApp(
    help="Find gendered noun phrases (\"woman welder\", \"his mother\") in item descriptions: lexicon "
    "triggers, the role they qualify, its category, and the sentence, with character offsets in the "
    "cleaned text (catalogue boilerplate such as \"1 print : silkscreen, color.\" removed). "
    "The lexicon, categories and boilerplate can be extended in the text table of postercensus.toml.",
    no_args_is_help=True,
)


def _gender_counts(genders: Counter) -> str:
    return ", ".join(f"{gender} {n:,}" for gender, n in sorted(genders.items())) or "none"


@text_app.command()
def extract(ctx: typer.Context) -> None:
    """Scan every item whose description is new or changed since the last run with these settings.

    Mentions go to the catalogue's `mentions` table, keyed by item and the pipeline's version hash;
    `text_scans` records which description each item was scanned with. A second run does nothing;
    an edited description is scanned again and its mentions replaced; changed text settings (a new
    version hash) scan every item into a new result set beside the old one. Deleted items are skipped.
    If the keywords synonym map changed, every item's keywords are re-mapped first.
    Example: postercensus --home H text extract
    """
    from postercensus.catalog.keywordstage import RemapKeywords
    from postercensus.text.stage import ExtractMentions

    context = existing_home(ctx)
    stage = ExtractMentions()
    version = stage.pipeline(context).version_hash()  # loads spaCy: a missing model or bad [text] setting is an error here
    console = Console(soft_wrap=True)
    remapped = RemapKeywords().run(context)
    if remapped.facts.applied:
        console.print(f"keywords: synonym map from {context.config.path} applied, "
                      f"{remapped.counts['items_changed']:,} item(s) changed")
    pending = stage.pending(context)
    console.print(f"text pipeline version {version}: {pending:,} item(s) to scan")
    with progress_bar(console) as progress:
        task = progress.add_task("descriptions", total=pending)
        report = stage.run(context, lambda n: progress.advance(task, n))
    console.print(f"[bold]mentions[/bold]: {report.counts['mentions']:,} in {report.counts['items']:,} item(s) scanned "
                  f"({_gender_counts(report.facts.genders)} outside titles); "
                  f"{report.counts['in_title']:,} inside quoted titles, not counted")
    console.print(f"catalogue: {context.database_display}  (run #{report.run_id}; tables mentions and "
                  f"text_scans, version_hash {version})")
    print_errors(console, report.errors)


def _check_columns(path: Path, column: str, id_column: str | None) -> None:
    """Refuse a column the CSV lacks before any output is written, naming the option that gave it."""
    from postercensus.text.phrases import MissingColumn, check_columns

    try:
        check_columns(path, column, id_column)
    except MissingColumn as error:
        option = "--column" if error.name == column else "--id-column"
        raise CommandError(f"{path} has no column {error.name!r} ({option}); its columns: {', '.join(error.header)}") from error


@text_app.command()
def phrases(
    ctx: typer.Context,
    csv_file: Annotated[Path, typer.Option("--csv", help="CSV file (UTF-8, header row) with one text per row.", show_default=False)],
    column: Annotated[str, typer.Option("--column", help="Column holding the text to scan.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", help="CSV to write: one row per mention.", show_default=False)],
    id_column: Annotated[Optional[str], typer.Option("--id-column", help="Column whose value identifies a row in the output (default: the 1-based row number).", show_default=False)] = None,
    include_titles: Annotated[bool, typer.Option("--include-titles", help="Keep mentions inside quoted titles of works (\"The Women\"), left out by default, and add an in_title column.")] = False,
) -> None:
    """Extract gendered phrases from a CSV column, without a catalogue.

    OUT gets the columns id, gender, trigger, role, role_lemma, category, start, end, sentence;
    start and end are character offsets of the trigger in the cleaned text (boilerplate removed).
    Example: postercensus text phrases --csv posters.csv --column description --id-column id --out phrases.csv
    """
    from postercensus.text.phrases import count_rows, write_phrases
    from postercensus.text.stage import active_pipeline

    context: Home = ctx.obj
    if not csv_file.is_file():
        raise CommandError(f"CSV file not found: {csv_file}")
    writable_file(out, "--out")
    _check_columns(csv_file, column, id_column)
    pipeline = active_pipeline(context)  # a missing spaCy model or bad [text] setting is a one-line error
    console = Console(soft_wrap=True)
    with progress_bar(console) as progress:
        task = progress.add_task("rows", total=count_rows(csv_file))
        report = write_phrases(pipeline, csv_file, column, out, id_column, include_titles,
                               lambda n: progress.advance(task, n))
    console.print(f"[bold]mentions[/bold]: {report.counts['mentions']:,} in {report.counts['rows']:,} row(s) "
                  f"({_gender_counts(report.facts.genders)})")
    console.print(f"written: {out}  (text pipeline version {pipeline.version_hash()})")
    print_errors(console, report.errors)
