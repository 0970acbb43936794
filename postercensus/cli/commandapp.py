"""The Typer app every command group is made from, so `--help` reads the same everywhere.

Typer shows each parameter's Python type as its metavar: a flag reads `--json <bool>` (as if it
took a value) and a required argument `{outdir}` in the usage line. The classes here name
arguments in capitals (`export [OPTIONS] OUTDIR`) and give flags no metavar; every group and
command gets them through `CommandApp` instead of a `cls=` on each decorator.

`CommandApp` also gives every command that reads the home (its function takes `ctx`) its own
`--home` and `--db`: `postercensus status --home X` works as `postercensus --home X status` does,
instead of "No such option: --home".
"""
from __future__ import annotations

import functools
import inspect
from pathlib import Path
from typing import Annotated, Any, Callable, Optional

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup

from postercensus.catalog.config import resolve_home


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


HomeAfter = Annotated[Optional[Path], typer.Option(
    "--home", metavar="DIR", help="The home folder, as before the command (default: $POSTERCENSUS_HOME, else ./postercensus-home).",
    show_default=False)]
DbAfter = Annotated[Optional[str], typer.Option(
    "--db", metavar="URL", help="The catalogue's SQLAlchemy URL, as before the command.", show_default=False)]


def with_home_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """`function` with `--home` and `--db` options of its own, which re-point `ctx.obj` (the Home
    the group's options opened) before it runs; a function without `ctx`, or with its own
    `home` (as `demo`), is returned unchanged."""
    signature = inspect.signature(function, eval_str=True)
    if "ctx" not in signature.parameters or "home" in signature.parameters:
        return function

    @functools.wraps(function)
    def command(*args: Any, home_after: Path | None = None, db_after: str | None = None, **kwargs: Any) -> Any:
        ctx: typer.Context = kwargs["ctx"]
        if home_after is not None or db_after is not None:
            ctx.obj = ctx.obj.elsewhere(resolve_home(home_after) if home_after else None, db_after)
        return function(*args, **kwargs)

    extra = [inspect.Parameter("home_after", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=HomeAfter),
             inspect.Parameter("db_after", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=DbAfter)]
    parameters = [parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY) for parameter in signature.parameters.values()]
    command.__signature__ = signature.replace(parameters=parameters + extra)  # type: ignore[attr-defined]
    command.__annotations__ = {**{name: parameter.annotation for name, parameter in signature.parameters.items()},
                               "home_after": HomeAfter, "db_after": DbAfter}
    return command


class CommandApp(typer.Typer):
    """typer.Typer whose groups default to HelpGroup and whose commands to HelpCommand, each
    command that takes `ctx` with `--home`/`--db` after it too (`with_home_options`)."""

    def __init__(self, *, cls: type[TyperGroup] = HelpGroup, **settings: Any) -> None:
        super().__init__(cls=cls, **settings)

    def command(self, *args: Any, cls: type[TyperCommand] = HelpCommand, **settings: Any) -> Any:
        register = super().command(*args, cls=cls, **settings)

        def decorator(function: Callable[..., Any]) -> Callable[..., Any]:
            register(with_home_options(function))
            return function

        return decorator
