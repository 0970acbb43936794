"""One self-contained HTML page of every panel, readable offline and archivable with a paper.

plotly.js is inlined once (in the first figure) and MathJax is never referenced, so the file
opens without a network and never asks a CDN for anything. It is written atomically: a page
being rebuilt while someone has it open is either the old one or the new one.
"""
from __future__ import annotations

import html
from pathlib import Path

import plotly.io as pio

from postercensus.analysis.filters import Filters, at_threshold, describe
from postercensus.analysis.load import Tables
from postercensus.catalog.atomicwrite import write_atomically
from postercensus.dashboards.citation import citation
from postercensus.dashboards.panels import PANELS, build_figures, methods

PLOT_CONFIG = {"displaylogo": False, "responsive": True}
STYLE = """
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 1rem 2rem; color: #222; }
.panel { margin: 1.5rem 0; }
.panel p.caption { color: #555; font-size: 0.9rem; margin: 0.2rem 0 0 0; }
#methods { background: #f6f6f6; padding: 0.5rem 1.5rem; border-radius: 6px; }
#methods h3 { margin-bottom: 0.2rem; font-size: 1rem; }
#citation { margin: 1.5rem 0; padding-top: 0.5rem; border-top: 1px solid #ccc; color: #444; font-size: 0.85rem; }
#citation h2 { font-size: 1rem; margin: 0.3rem 0; }
#citation dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; margin: 0; }
#citation dt { font-weight: 600; } #citation dd { margin: 0; overflow-wrap: anywhere; }
.demo-banner { position: sticky; top: 0; z-index: 10; background: #fff3c4; color: #7a1500; font-weight: 700;
               font-size: 1.4rem; text-align: center; padding: 0.5rem; border: 3px solid #c2185b; }
"""


def render_page(tables: Tables, filters: Filters = Filters()) -> str:
    """The page's HTML text; a demo home's opens with its banner, kept in view while scrolling, and
    every page ends with its citation footer (`dashboards.citation`). Filters naming no threshold
    decide at the home's `[classify] threshold`, and the page says which."""
    filters = at_threshold(filters, tables.threshold)
    figures = build_figures(tables, filters)
    sections = []
    for index, panel in enumerate(PANELS):
        figure_html = pio.to_html(figures[panel.id], full_html=False, include_plotlyjs=index == 0,
                                  include_mathjax=False, div_id=panel.id, config=PLOT_CONFIG)
        sections.append(f'<section class="panel">{figure_html}<p class="caption">{html.escape(panel.caption)}</p>'
                        "</section>")
    notes = "".join(f"<h3>{html.escape(heading)}</h3><p>{html.escape(text)}</p>"
                    for heading, text in methods(tables, filters))
    cited = "".join(f"<dt>{html.escape(what)}</dt><dd>{html.escape(value)}</dd>"
                    for what, value in citation(tables, filters))
    banner = html.escape(tables.demo_banner or "")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{banner + ': ' if banner else ''}postercensus dashboard</title>"
        f"<style>{STYLE}</style></head><body>"
        + (f'<div class="demo-banner" role="note">{banner}</div>' if banner else "")
        + f"<h1>postercensus</h1><p>Catalogue {html.escape(str(tables.home))} — {html.escape(describe(filters))}</p>"
        f'{"".join(sections)}<section id="methods"><h2>Methods</h2>{notes}</section>'
        f'<footer id="citation"><h2>Cite this page</h2><dl>{cited}</dl></footer></body></html>\n'
    )


def build_page(tables: Tables, out: Path, filters: Filters = Filters()) -> Path:
    """Write the page to `out` (atomically) and return its path."""
    write_atomically(out, render_page(tables, filters).encode("utf-8"))
    return out
