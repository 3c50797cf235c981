"""``cmesh agent``: run one cluster's agent in the foreground."""

from __future__ import annotations

import signal
import sys
import time

import click

from cmesh.cli.options import State, context_option, pass_state


@click.command()
@context_option
@click.option(
    "--metrics-address",
    default="127.0.0.1:9962",
    show_default=True,
    help="Where /metrics is served (loopback by default).",
)
@click.option(
    "--interval", type=float, default=0.2, show_default=True, help="Seconds between change checks."
)
@click.option("--once", is_flag=True, help="Run one round and exit (for scripts and tests).")
@pass_state
def agent(state: State, metrics_address: str, interval: float, once: bool) -> None:
    """Watch the cluster and its mesh, keep policy maps current, serve /metrics."""
    from cmesh.agent import Agent, serve
    from cmesh.metrics import cluster_gauges, load, render

    def log(msg: str) -> None:
        sys.stderr.write(f"{time.strftime('%H:%M:%S')} {msg}\n")
        sys.stderr.flush()

    a = Agent(state.home, state.home.cluster(state.context).context, log=log)
    a.step()

    def exposition() -> bytes:
        assert a.view is not None
        return render(
            dict(load(state.home.store, a.cfg.name)),
            cluster_gauges(
                a.view, a.mgr.statuses(a.cfg.name), next(iter(sorted(a.view.inventory.nodes)), "")
            ),
        )

    if once:
        a.close()
        return
    host, _, port = metrics_address.rpartition(":")
    httpd = serve(exposition, host or "127.0.0.1", int(port))
    log(f"{a.cfg.name}: agent running; metrics on http://{host or '127.0.0.1'}:{port}/metrics")
    stopping = {"flag": False}

    def _stop(*_args: object) -> None:
        stopping["flag"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        a.run(interval=interval, stop=lambda: stopping["flag"])
    finally:
        httpd.shutdown()
        a.close()
        log(f"{a.cfg.name}: agent stopped")
