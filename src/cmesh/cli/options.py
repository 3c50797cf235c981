"""Option bundles shared by commands (as decorators), and the per-invocation state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from cmesh.cli.console import Console
from cmesh.errors import InvalidArgument

if TYPE_CHECKING:
    from cmesh.registry import Home

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class State:
    home_path: str | None = None
    kvstore: str = ""
    context: str | None = None
    console: Console = field(default_factory=Console)
    #: Set by a command that only reads and prints (the offline analyses): once it has closed
    #: what it opened, the process may end without freeing its objects (see ``cli.main``).
    exit_fast: bool = False
    _home: Home | None = None

    @property
    def home(self) -> Home:
        if self._home is None:
            from cmesh.registry import Home

            self._home = Home.open(self.home_path, self.kvstore)
        return self._home

    def cluster_names(self, all_clusters: bool) -> list[str]:
        """Every cluster of the home (``--all-clusters``), or the ``--context`` one."""
        if all_clusters:
            return [c.name for c in self.home.clusters()]
        return [self.home.cluster(self.context).name]

    def close(self) -> None:
        if self._home is not None:
            self._home.close()


pass_state = click.make_pass_decorator(State, ensure=True)


def _set_context(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value:
        ctx.ensure_object(State).context = value
    return value


def context_option(f: F) -> F:
    """``--context NAME`` on a command (also accepted before the command, as kubectl does)."""
    return click.option(
        "--context",
        "context_",
        metavar="NAME",
        expose_value=False,
        callback=_set_context,
        help="Cluster context to use (default: $CMESH_CONTEXT, then the current context).",
    )(f)


def output_option(*choices: str, default: str = "table") -> Callable[[F], F]:
    def deco(f: F) -> F:
        return click.option(
            "-o",
            "--output",
            type=click.Choice(list(choices)),
            default=default,
            show_default=True,
            help="Output format.",
        )(f)

    return deco


def _report_path(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """Checked while parsing, so a mistyped path costs nothing and changes nothing."""
    if value is None:
        return None
    path = Path(value)
    try:
        if path.is_dir():
            raise click.BadParameter(
                f"{value} is a folder; give a file name, e.g. {path / 'junit.xml'}"
            )
        if not path.parent.is_dir():
            raise click.BadParameter(
                f"the folder {path.parent} does not exist; create it first or give another path"
            )
    except OSError as exc:  # e.g. a name too long for the file system
        raise click.BadParameter(f"{value}: {exc.strerror or exc}") from None
    return value


def junit_file_option(f: F) -> F:
    """``--junit-file FILE``: the results as JUnit XML too (the folder must exist)."""
    return click.option(
        "--junit-file",
        metavar="FILE",
        callback=_report_path,
        help="Also write the results as JUnit XML (the folder must exist).",
    )(f)


def write_report(path: str, text: str) -> None:
    """Write a report file the user named; a failure is an input error, not a traceback."""
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidArgument(
            f"cannot write {path}: {exc.strerror or exc}",
            hint="give --junit-file a path in a folder you can write to",
        ) from None
