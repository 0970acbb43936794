"""`postercensus dashboard build|serve`: the offline HTML page and the local interactive app.

Plotly and Dash are imported inside the commands: they take seconds to load and no other stage
needs them.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from postercensus.cli.commandapp import CommandApp
from postercensus.cli.context import existing_home, writable_file
from postercensus.cli.filter_options import Keyword, MinProbability, Model, Source, YearFrom, YearTo, make_filters

dashboard_app = CommandApp(
    help="Figures of the catalogue: `build` writes one self-contained HTML page (works offline, "
    "plotly.js inlined); `serve` runs an interactive dashboard on 127.0.0.1 with filters and a "
    "drill-down to the posters behind each bar.",
    no_args_is_help=True,
)


@dashboard_app.command()
def build(
    ctx: typer.Context,
    out: Annotated[Path, typer.Argument(help="Where to write the page, e.g. dashboard.html.")],
    year_from: YearFrom = None,
    year_to: YearTo = None,
    keyword: Keyword = None,
    source: Source = None,
    min_probability: MinProbability = None,
    model: Model = None,
) -> None:
    """Write every figure and the methods notes into one HTML file that opens without a network.

    Filters that select nothing are an error, as for `export`; otherwise it says how many items,
    images and faces the figures rest on.
    Example: postercensus --home H dashboard build dashboard.html --year-from 1940 --year-to 1945
    """
    from postercensus.dashboards.stage import BuildDashboard

    from postercensus.homestatus import stages_not_run

    context = existing_home(ctx)
    writable_file(out, "OUT")
    filters = make_filters(year_from, year_to, keyword, source, min_probability, model)
    report = BuildDashboard(out, filters).run(context)  # a FilterError (nothing selected) is the one-line error
    typer.echo(f"dashboard page written to {report.facts.paths[0].resolve()} ({report.facts.matched})")
    for line in stages_not_run(context):
        typer.echo(line)


@dashboard_app.command()
def serve(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 8050,
) -> None:
    """Serve the interactive dashboard on 127.0.0.1 until Ctrl-C; it only reads the catalogue.

    Example: postercensus --home H dashboard serve --port 8050
    """
    from postercensus.dashboards.app import serve as serve_app

    context = existing_home(ctx)
    serve_app(context, port, announce=lambda url: typer.echo(f"dashboard at {url} (Ctrl-C to stop)"))
