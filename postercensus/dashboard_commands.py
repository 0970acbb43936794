"""`postercensus dashboard build|serve`: the offline HTML page and the local interactive app.

Plotly and Dash are imported inside the commands: they take seconds to load and no other stage
needs them.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from postercensus.context import AppContext

dashboard_app = typer.Typer(
    help="Figures of the catalogue: `build` writes one self-contained HTML page (works offline, "
    "plotly.js inlined); `serve` runs an interactive dashboard on 127.0.0.1 with filters and a "
    "drill-down to the posters behind each bar.",
    no_args_is_help=True,
)


@dashboard_app.command()
def build(
    ctx: typer.Context,
    out: Annotated[Path, typer.Argument(help="Where to write the page, e.g. dashboard.html.")],
    year_from: Annotated[Optional[int], typer.Option(help="Only items from this year on.")] = None,
    year_to: Annotated[Optional[int], typer.Option(help="Only items up to this year.")] = None,
    keyword: Annotated[Optional[list[str]], typer.Option(help="Only items with this keyword (repeatable).")] = None,
    source: Annotated[Optional[str], typer.Option(help="Only items of this source key.")] = None,
    min_probability: Annotated[float, typer.Option(
        help="Faces whose top probability is below this count as uncertain.")] = 0.0,
    model: Annotated[Optional[str], typer.Option(help="Model id (default: the last registered).")] = None,
) -> None:
    """Write every figure and the methods notes into one HTML file that opens without a network.

    Example: postercensus --home H dashboard build dashboard.html --year-from 1940 --year-to 1945
    """
    from analysis.filters import Filters
    from analysis.load import load_tables
    from dashboards.page import build_page

    context: AppContext = ctx.obj
    filters = Filters(year_from=year_from, year_to=year_to, keywords=tuple(keyword or ()), source=source,
                      min_probability=min_probability, model_id=model)
    page = build_page(load_tables(context.catalog.engine, home=context.home), out, filters)
    typer.echo(f"dashboard page written to {page.resolve()}")


@dashboard_app.command()
def serve(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 8050,
) -> None:
    """Serve the interactive dashboard on 127.0.0.1 until Ctrl-C; it only reads the catalogue.

    Example: postercensus --home H dashboard serve --port 8050
    """
    from dashboards.app import serve as serve_app

    context: AppContext = ctx.obj
    serve_app(context.home, context.catalog.engine, port,
              announce=lambda url: typer.echo(f"dashboard at {url} (Ctrl-C to stop)"))
