"""The command line: `postercensus [--home DIR] [--db URL] <group> <verb>`.

One module per command group, named after it (`harvest`, `sources`, `faces`, `classify`, `text`,
`analysis`, `dashboard`, `refresh`, `status`, …), the shared helpers they are built
from (`commandapp`: one help style and a per-command --home/--db; `context`: the opened home and
the CLI's own error; `terminal`: progress and error printing; `filter_options`: the analysis
filters), and `application`, which assembles the app. The console script is
`postercensus = "postercensus.cli:main"`, hence the two names below.
"""
from __future__ import annotations

from postercensus.cli.application import app, main

__all__ = ["app", "main"]
