"""`postercensus harvest …`: one command per kind of source, all run by harvest.runner."""
from __future__ import annotations

import shlex
import shutil
from pathlib import Path
from typing import Annotated, Callable, Optional

import typer
from rich.console import Console

from postercensus.harvest.http import HttpClient, HttpSettings
from postercensus.harvest.records import Harvester
from postercensus.harvest.runner import HarvestFacts
from postercensus.harvest.stage import HarvestSource
from postercensus.harvest.tabular import COLUMN_CANDIDATES, CsvColumns, CsvHarvester, FolderHarvester
from postercensus.cli.commandapp import CommandApp
from postercensus.catalog.home import Home
from postercensus.cli.context import CommandError
from postercensus.cli.terminal import print_errors

harvest_app = CommandApp(
    help="Bring a collection's items and images into the catalogue. Re-running a harvest only "
    "adds what is new or changed; each source is registered in <home>/postercensus.toml for "
    "`postercensus refresh` once it could be read (a source that fails at once is not registered); "
    "`postercensus source list|remove` shows and removes sources.",
    no_args_is_help=True,
)

Workers = Annotated[int, typer.Option("--workers", min=1, help="Images fetched at once (threads): downloaded, or for local files copied into the home, hashed and checked.")]
FolderWorkers = Annotated[int, typer.Option("--workers", min=1, help="Image files copied into the home, hashed and fully decoded (to check them) at once, in threads.")]
Delay = Annotated[float, typer.Option("--delay", min=0, help="Seconds between requests to the same host (be polite to small archives).")]
Retries = Annotated[int, typer.Option("--retries", min=0, help="Retries per request on 429/5xx, timeouts and cut-off bodies (exponential backoff).")]
Timeout = Annotated[float, typer.Option("--timeout", min=1, help="Seconds to wait for a server before retrying.")]
MaxMegabytes = Annotated[int, typer.Option("--max-mb", min=1, help="Largest download accepted, in MB.")]


def _http_settings(delay: float, retries: int, timeout: float, max_mb: int) -> HttpSettings:
    return HttpSettings(retries=retries, timeout=timeout, per_host_delay=delay, max_bytes=max_mb * 1024 * 1024)


def _run(ctx: typer.Context, make: Callable[[HttpClient], Harvester], workers: int, settings: HttpSettings,
         overrides: dict | None = None) -> None:
    context: Home = ctx.obj
    client = HttpClient(settings)
    harvester = make(client)  # a HarvestError (options the harvester refuses: a bad --from, template …) is one line
    stage = HarvestSource(harvester, client, workers=workers, overrides=overrides, register=True)
    folder_is_new = not context.path.exists()
    report = stage.run(context).facts
    if not report.contacted:  # a mistake in the options or the source: its own fix, no summary, no "run again"
        registered = any(source.get("key") == report.source_key for source in context.config.sources)
        if folder_is_new:
            _discard_new_home(context)
        raise CommandError(report.listing_error or "the source could not be read",
                           "the registered source is unchanged" if registered else "nothing was stored or registered")
    _print_report(context, report)
    if report.listing_error:
        raise CommandError(f"harvest incomplete: {report.listing_error}",
                           "what was read is stored; run the same command again to continue")
    _print_next_step(context)


def _discard_new_home(context: Home) -> None:
    """Remove the home folder this harvest made before its source failed at first contact: it holds
    nothing but an empty catalogue, which a later `status` or nightly `refresh` on the same
    mistyped --home would read as a real, empty collection. Only a folder this very command
    created is removed, so nothing a person made is touched."""
    context.engine.dispose()
    shutil.rmtree(context.path, ignore_errors=True)


def _print_next_step(context: Home) -> None:
    """The harvest brought items and images only: say which command makes tables of them."""
    home = shlex.quote(str(context.path))
    Console(soft_wrap=True).print(
        f"next: `postercensus --home {home} refresh` finds faces, predicts their perceived gender and extracts "
        f"mentions from the descriptions; then `postercensus --home {home} export OUTDIR` writes the tables",
        highlight=False, markup=False,
    )


def _print_report(context: Home, report: HarvestFacts) -> None:
    counts = report.counts
    console = Console(soft_wrap=True)  # one line per fact: readable in logs and by grep
    console.print(
        f"[bold]{report.source_key}[/bold]: {counts['new']} new, {counts['updated']} updated, "
        f"{counts['deleted']} deleted, {counts['unchanged']} unchanged, {counts['problems']} records skipped"
        + (f", {counts['warnings']} stored with a warning" if counts["warnings"] else "")
    )
    console.print(
        f"images: {counts['images_stored']} stored, {counts['images_reused']} already stored, "
        f"{counts['images_failed']} failed, {counts['images_missing']} missing"
    )
    console.print(f"catalogue: {context.database_display}  (run #{report.run_id})")
    console.print(f"image files: {context.image_files.root}")
    console.print(f"source registered in: {context.config.path}")
    if report.missing_files:
        console.print(
            f"[yellow]{len(report.missing_files)} image file(s) named by the source do not exist[/yellow] "
            f"(e.g. {report.missing_files[0]}); if they live elsewhere, pass --images DIR",
            highlight=False,
        )
    for note in report.notes:
        console.print(f"note: {note}", style="yellow", highlight=False, markup=False)
    errors = report.item_errors  # a stopped listing is said once, by the closing `Error:` line
    print_errors(console, errors)
    if errors:
        console.print("(all are stored with the run: `postercensus status --json` shows the last run)")


@harvest_app.command("oai")
def harvest_oai(
    ctx: typer.Context,
    base_url: Annotated[str, typer.Argument(help="The repository's OAI-PMH base URL.")],
    set_spec: Annotated[Optional[str], typer.Option("--set", help="Harvest only this set (setSpec).")] = None,
    prefix: Annotated[str, typer.Option("--prefix", help="metadataPrefix: oai_dc or mods.")] = "oai_dc",
    from_date: Annotated[Optional[str], typer.Option("--from", help="Only records changed on/after YYYY-MM-DD (default: the last harvest's newest datestamp).")] = None,
    image_url_template: Annotated[Optional[str], typer.Option("--image-url-template", help="Image URL built from the record id, e.g. https://host/iiif/{local_id}/full/!2000,2000/0/default.jpg ({id} = full OAI identifier, {local_id} = part after the last ':').")] = None,
    workers: Workers = 4, delay: Delay = 0.0, retries: Retries = 4, timeout: Timeout = 30.0, max_mb: MaxMegabytes = 200,
) -> None:
    """Harvest an OAI-PMH repository (ListRecords, resumption tokens, deleted records).

    Example: postercensus harvest oai https://example.org/oai --set posters --prefix mods
    """
    from postercensus.harvest.oai import OaiHarvester

    if prefix not in ("oai_dc", "mods"):
        raise typer.BadParameter("choose oai_dc or mods", param_hint="--prefix")
    _run(ctx, lambda client: OaiHarvester(base_url, client, set_spec=set_spec, prefix=prefix,
                                          image_url_template=image_url_template, from_date=from_date),
         workers, _http_settings(delay, retries, timeout, max_mb),
         overrides={"from": from_date} if from_date else None)


@harvest_app.command("iiif")
def harvest_iiif(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="A IIIF Presentation (v2 or v3) manifest or collection URL.")],
    image_request: Annotated[str, typer.Option("--image-request", help="Image API request appended to each image service.")] = "full/!2000,2000/0/default.jpg",
    workers: Workers = 4, delay: Delay = 0.0, retries: Retries = 4, timeout: Timeout = 30.0, max_mb: MaxMegabytes = 200,
) -> None:
    """Harvest a IIIF manifest, or every manifest of a (nested) collection; each canvas is an image.

    Example: postercensus harvest iiif https://example.org/iiif/collection/posters
    """
    from postercensus.harvest.iiif import IiifHarvester

    _run(ctx, lambda client: IiifHarvester(url, client, image_request=image_request),
         workers, _http_settings(delay, retries, timeout, max_mb))


def _column_help(field_name: str) -> str:
    return f"Column holding the {field_name} (default: first of {', '.join(COLUMN_CANDIDATES[field_name])})."


@harvest_app.command("csv")
def harvest_csv(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The CSV file (UTF-8, header row).")],
    images: Annotated[Optional[Path], typer.Option("--images", help="Folder that relative image paths start from (default: the CSV's folder).")] = None,
    id_column: Annotated[Optional[str], typer.Option("--id-column", help=_column_help("id"))] = None,
    title_column: Annotated[Optional[str], typer.Option("--title-column", help=_column_help("title"))] = None,
    date_column: Annotated[Optional[str], typer.Option("--date-column", help=_column_help("date"))] = None,
    keywords_column: Annotated[Optional[str], typer.Option("--keywords-column", help=_column_help("keywords"))] = None,
    keywords_sep: Annotated[str, typer.Option("--keywords-sep", help="Separator between keywords in a cell.")] = ";",
    description_column: Annotated[Optional[str], typer.Option("--description-column", help=_column_help("description"))] = None,
    image_column: Annotated[Optional[str], typer.Option("--image-column", help=_column_help("image") + " A URL, or a path relative to --images.")] = None,
    creator_column: Annotated[Optional[str], typer.Option("--creator-column", help=_column_help("creator"))] = None,
    rights_column: Annotated[Optional[str], typer.Option("--rights-column", help=_column_help("rights"))] = None,
    url_column: Annotated[Optional[str], typer.Option("--url-column", help=_column_help("url"))] = None,
    workers: Workers = 4, delay: Delay = 0.0, retries: Retries = 4, timeout: Timeout = 30.0, max_mb: MaxMegabytes = 200,
) -> None:
    """Harvest a CSV export: one row per item, columns mapped by options.

    The file must have a header row with an id column. When no column has a known image name,
    a column whose cells name image files or URLs is an error (pass --image-column); if none
    does, the items are stored without images and a note says so.
    Example: postercensus harvest csv posters.csv --images scans/ --image-column filename
    """
    if not file.is_file():
        raise CommandError(f"CSV file not found: {file}", "check the path")
    columns = CsvColumns(
        id=id_column, title=title_column, date=date_column, keywords=keywords_column,
        description=description_column, image=image_column, creator=creator_column,
        rights=rights_column, url=url_column, keywords_sep=keywords_sep,
    )
    _run(ctx, lambda client: CsvHarvester(file, images, columns), workers,
         _http_settings(delay, retries, timeout, max_mb))


@harvest_app.command("folder")
def harvest_folder(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="Folder of images (searched recursively); each image is one item.")],
    workers: FolderWorkers = 4,
) -> None:
    """Harvest a plain folder of images (id = path relative to the folder, title = file name).

    A folder without any image file is an error (nothing is registered).
    Example: postercensus harvest folder ~/scans/posters
    """
    if not directory.is_dir():
        raise CommandError(f"folder not found: {directory}", "check the path")
    _run(ctx, lambda client: FolderHarvester(directory), workers, HttpSettings())  # local files: no HTTP
