"""The ``cmesh`` command: global options, command registration, and the one error handler.

Every :class:`~cmesh.errors.CmeshError` is caught here, printed once to stderr, and mapped to an
exit code by :data:`EXIT_CODES`; any other exception is a bug and shows its traceback.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys

import click

from cmesh import __version__
from cmesh.cli.options import State
from cmesh.errors import CmeshError, Conflict, InvalidInput, NotFound, StoreUnavailable

#: Exit codes by error class (first match wins).  1 is kubectl's code for every failure.
EXIT_CODES: tuple[tuple[type[CmeshError], int], ...] = (
    (InvalidInput, 1),
    (NotFound, 1),
    (StoreUnavailable, 3),
    (Conflict, 4),
    (CmeshError, 1),
)

#: Sub-command modules, imported lazily so `cmesh policy trace` starts fast.
COMMANDS: dict[str, tuple[str, str]] = {
    "install": ("cmesh.cli.cluster", "install"),
    "uninstall": ("cmesh.cli.cluster", "uninstall"),
    "status": ("cmesh.cli.cluster", "status"),
    "config": ("cmesh.cli.config", "config"),
    "apply": ("cmesh.cli.resources", "apply"),
    "delete": ("cmesh.cli.resources", "delete"),
    "get": ("cmesh.cli.resources", "get"),
    "demo": ("cmesh.cli.demo", "demo"),
    "policy": ("cmesh.cli.policy", "policy"),
    "clustermesh": ("cmesh.cli.clustermesh", "clustermesh"),
    "service": ("cmesh.cli.service", "service"),
    "endpoint": ("cmesh.cli.endpoint", "endpoint"),
    "exec": ("cmesh.cli.traffic", "exec_"),
    "run": ("cmesh.cli.traffic", "run"),
    "dns": ("cmesh.cli.traffic", "dns"),
    "metrics": ("cmesh.cli.traffic", "metrics"),
    "hubble": ("cmesh.cli.hubble", "hubble"),
    "test": ("cmesh.cli.assertions", "test"),
    "replay": ("cmesh.cli.replay", "replay"),
    "agent": ("cmesh.cli.agent", "agent"),
    "connectivity": ("cmesh.cli.connectivity", "connectivity"),
}


class LazyGroup(click.Group):
    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except CmeshError as err:
            click.echo(f"Error: {err.render()}", err=True)
            ctx.exit(exit_code(err))
        except BrokenPipeError:
            ctx.exit(0)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name]
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cmesh")
@click.option(
    "--home", envvar="CMESH_HOME", metavar="DIR", help="State directory (default ~/.cmesh)."
)
@click.option(
    "--kvstore",
    envvar="CMESH_KVSTORE",
    default="",
    metavar="URL",
    help="Store URL: sqlite:///path (default) or etcd://host:port[,host:port].",
)
@click.option(
    "--context",
    "context_",
    metavar="NAME",
    help="Cluster context (default: $CMESH_CONTEXT, then the current context).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print only data and errors.")
@click.option(
    "--color", type=click.Choice(["auto", "always", "never"]), default="auto", help="Colour output."
)
@click.pass_context
def cli(
    ctx: click.Context,
    home: str | None,
    kvstore: str,
    context_: str | None,
    quiet: bool,
    color: str,
) -> None:
    """cmesh: multi-cluster network policy modelled on Cilium ClusterMesh."""
    state = ctx.ensure_object(State)
    state.home_path = home
    state.kvstore = kvstore
    if context_:
        state.context = context_
    state.console.quiet = quiet
    state.console.color = color
    ctx.call_on_close(state.close)


def exit_code(err: CmeshError) -> int:
    for cls, code in EXIT_CODES:
        if isinstance(err, cls):
            return code
    return 1


#: A command builds hundreds of thousands of small objects that all live until it ends; with
#: CPython's default threshold (700) the cyclic collector runs thousands of times over them for
#: nothing (about 6% of `policy list`).  Cycles are still collected.
GC_THRESHOLD = (50_000, 20, 20)


def main(argv: list[str] | None = None) -> None:
    """The console script.

    After a command that set ``State.exit_fast`` (an offline analysis: its files and store are
    closed by the time click exits), the process ends with ``os._exit`` once stdout and stderr
    are flushed, as mypy's ``hard_exit`` does: freeing a large mesh object by object at
    interpreter exit is about 5% of ``policy list`` at 2k pods.  Any other command, and any
    traceback, exits the ordinary way."""
    gc.set_threshold(*GC_THRESHOLD)
    state = State()
    try:
        cli.main(args=argv, prog_name="cmesh", obj=state)
    except SystemExit as done:
        if not state.exit_fast or not isinstance(done.code, int | None):
            raise
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (BrokenPipeError, ValueError):
            raise done from None
        os._exit(done.code or 0)
