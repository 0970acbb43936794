"""What every command needs: the opened home (`catalog.home.Home`), and the CLI's own error."""
from __future__ import annotations

from postercensus.catalog.stage import StageError


class CommandError(StageError):
    """A usage or input problem a command finds itself; printed like every StageError
    ("Error: what went wrong, what to do"), exit code 1."""
