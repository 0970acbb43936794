"""The Typer app every command group is made from, so `--help` reads the same everywhere.

Typer shows each parameter's Python type as its metavar: a flag reads `--json <bool>` (as if it
took a value) and a required argument `{outdir}` in the usage line. The classes here name
arguments in capitals (`export [OPTIONS] OUTDIR`) and give flags no metavar; every group and
command gets them through `CommandApp` instead of a `cls=` on each decorator.
"""
from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup


def _tidy(param: Any) -> None:
    """Set the metavar Typer would otherwise derive from the annotation (explicit ones are kept)."""
    if param.metavar is not None:
        return
    if isinstance(param, TyperArgument):
        param.metavar = param.name.upper()
    elif getattr(param, "is_flag", False):
        param.metavar = ""


def _usage_pieces(command: Any, ctx: Any) -> list[str]:
    """The usage line with arguments as NAME (required) or [NAME] (optional), not {name}."""
    pieces = [command.options_metavar] if command.options_metavar else []
    for param in command.get_params(ctx):
        if isinstance(param, TyperArgument):
            name = param.metavar or param.name.upper()
            name = name if param.required else f"[{name}]"
            pieces.append(name + ("..." if param.nargs != 1 else ""))
        else:
            pieces.extend(param.get_usage_pieces(ctx))
    return pieces


class _TidyParams:
    """Mixin for Click commands and groups: every parameter's metavar set by `_tidy`."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            _tidy(param)
        return params


class HelpCommand(_TidyParams, TyperCommand):
    """A command whose help shows no `<bool>` on flags and names its arguments in capitals."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return _usage_pieces(self, ctx)


class HelpGroup(_TidyParams, TyperGroup):
    """A group whose own flags (`--version`, `--help`, the completion ones) show no `<bool>`."""


class CommandApp(typer.Typer):
    """typer.Typer whose groups default to HelpGroup and whose commands to HelpCommand."""

    def __init__(self, *, cls: type[TyperGroup] = HelpGroup, **settings: Any) -> None:
        super().__init__(cls=cls, **settings)

    def command(self, *args: Any, cls: type[TyperCommand] = HelpCommand, **settings: Any) -> Any:
        return super().command(*args, cls=cls, **settings)
