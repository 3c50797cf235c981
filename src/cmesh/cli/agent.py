"""``cmesh agent``: run one cluster's agent in the foreground."""

from __future__ import annotations

import signal
import sys
import threading
import time

import click

from cmesh.cli.options import State, context_option, pass_state
from cmesh.errors import InvalidArgument


def _positive(_ctx: click.Context, _param: click.Parameter, value: float) -> float:
    if not 0 < value < float("inf"):  # also refuses nan
        raise click.BadParameter(f"{value} is not a number of seconds above 0, e.g. 0.2")
    return value


@click.command()
@context_option
@click.option(
    "--metrics-address",
    default="127.0.0.1:9962",
    show_default=True,
    help="Where /metrics is served (loopback by default).",
)
@click.option(
    "--interval",
    type=float,
    default=0.2,
    show_default=True,
    callback=_positive,
    help="Seconds between change checks.",
)
@click.option("--once", is_flag=True, help="Run one round and exit (for scripts and tests).")
@pass_state
def agent(state: State, metrics_address: str, interval: float, once: bool) -> None:
    """Watch the cluster and its mesh, keep policy maps current, serve /metrics."""
    from cmesh.agent import Agent, serve
    from cmesh.cli.metricsfmt import render_exposition

    host, _, port = metrics_address.rpartition(":")
    host = host or "127.0.0.1"
    if not port.isdigit() or int(port) > 65535:
        raise InvalidArgument(
            f"--metrics-address {metrics_address!r} is not HOST:PORT",
            hint="give HOST:PORT or :PORT, e.g. 127.0.0.1:9962",
        )

    def log(msg: str) -> None:
        sys.stderr.write(f"{time.strftime('%H:%M:%S')} {msg}\n")
        sys.stderr.flush()

    a = Agent(state.home, state.home.cluster(state.context).context, log=log)
    a.step()
    if once:
        a.close()
        return

    def exposition() -> bytes:
        assert a.view is not None
        return render_exposition(state.home.store, a.cfg.name, a.view, a.mgr.statuses(a.cfg.name))

    httpd = serve(exposition, host, int(port))
    log(f"{a.cfg.name}: agent running; metrics on http://{host}:{port}/metrics")
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    try:
        a.run(interval=interval, stop=stopping.is_set)
    finally:
        httpd.shutdown()
        a.close()
        log(f"{a.cfg.name}: agent stopped")
