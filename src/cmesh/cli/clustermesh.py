"""``cmesh clustermesh``: enable, connect, disconnect and status, as the cilium CLI has them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import click

from cmesh.cli.options import State, context_option, output_option, pass_state
from cmesh.errors import CmeshError, InvalidArgument


@click.group()
def clustermesh() -> None:
    """Connect clusters into a mesh (ref §3)."""


def _mgr(state: State) -> Any:
    from cmesh.mesh import MeshManager

    return MeshManager(state.home)


@clustermesh.command()
@context_option
@click.option(
    "--service-type",
    type=click.Choice(["LoadBalancer", "NodePort", "ClusterIP"]),
    default=None,
    help="How the clustermesh-apiserver is exposed.",
)
@click.option(
    "--kvstore",
    "export_kvstore",
    default="",
    metavar="URL",
    help="Keep this cluster's clustermesh state in another store (default: the home's).",
)
@click.option(
    "--cache-ttl",
    type=float,
    default=None,
    metavar="SECONDS",
    help="Revoke a remote's data after it is unreachable this long (0: never).",
)
@pass_state
def enable(
    state: State, service_type: str | None, export_kvstore: str, cache_ttl: float | None
) -> None:
    """Deploy the clustermesh-apiserver: the cluster starts exporting its state."""
    from cmesh.mesh import enable as do_enable

    cfg = state.home.cluster(state.context)
    service_type = service_type or "NodePort"  # cilium-cli's default, with the same warning
    if service_type == "NodePort":
        state.console.warn(
            "⚠️  Service type NodePort detected! Service may fail when nodes are removed from the cluster!"
        )
    if cache_ttl is not None:
        cfg = cfg.with_options(clustermesh_cache_ttl=cache_ttl)
    mgr = _mgr(state)
    try:
        new = do_enable(mgr, cfg, service_type, export_kvstore)
    finally:
        mgr.close()
    state.console.print(
        f"✅ ClusterMesh enabled on {new.name} (clustermesh-apiserver, service type {service_type})"
    )


@clustermesh.command()
@context_option
@pass_state
def disable(state: State) -> None:
    """Remove the clustermesh-apiserver and every connection of the cluster."""
    from cmesh.mesh import disable as do_disable

    mgr = _mgr(state)
    try:
        new = do_disable(mgr, state.home.cluster(state.context))
    finally:
        mgr.close()
    state.console.print(f"✅ ClusterMesh disabled on {new.name}")


def _each_destination(state: State, dest: str, act: Callable[[Any, Any, Any], str]) -> None:
    """``act(manager, this cluster, destination)`` for each cluster of ``--destination-context``,
    printing what it returns."""
    a = state.home.cluster(state.context)
    mgr = _mgr(state)
    try:
        for d in [x for x in dest.split(",") if x]:
            state.console.print(act(mgr, a, state.home.cluster(d)))
    finally:
        mgr.close()


_connection_mode = click.option(
    "--connection-mode",
    type=click.Choice(["bidirectional", "unicast"]),
    default="bidirectional",
    show_default=True,
)


@clustermesh.command()
@context_option
@click.option(
    "--destination-context",
    "dest",
    required=True,
    metavar="CTX[,CTX…]",
    help="Cluster(s) to connect to.",
)
@_connection_mode
@pass_state
def connect(state: State, dest: str, connection_mode: str) -> None:
    """Connect the cluster with the destination cluster(s)."""
    from cmesh.mesh import connect as do_connect

    both = connection_mode == "bidirectional"

    def act(mgr: Any, a: Any, b: Any) -> str:
        do_connect(mgr, a, b, bidirectional=both)
        return f"✅ Connected cluster {a.name} {'<=>' if both else '=>'} {b.name}!"

    _each_destination(state, dest, act)


@clustermesh.command()
@context_option
@click.option("--destination-context", "dest", required=True, metavar="CTX[,CTX…]")
@_connection_mode
@pass_state
def disconnect(state: State, dest: str, connection_mode: str) -> None:
    """Disconnect and drain everything learned from the destination cluster(s)."""
    from cmesh.mesh import disconnect as do_disconnect

    def act(mgr: Any, a: Any, b: Any) -> str:
        do_disconnect(mgr, a, b, bidirectional=connection_mode == "bidirectional")
        return f"✅ Disconnected cluster {a.name} and {b.name}."

    _each_destination(state, dest, act)


def _wait_seconds(text: str) -> float:
    """``--wait-duration``: a Go duration, as cilium-cli parses it (``30s``, ``5m``, ``1h30m``)."""
    from cmesh.hubble.timefmt import parse_go_duration

    try:
        seconds = parse_go_duration(text) / 1e9
    except ValueError:
        seconds = -1.0
    if seconds < 0:
        raise InvalidArgument(
            f"--wait-duration {text!r} is not a duration",
            hint="give a number with a unit, e.g. 30s, 5m or 1h30m",
        )
    return seconds


@clustermesh.command()
@context_option
@click.option("--wait", is_flag=True, help="Wait until every remote cluster is ready.")
@click.option(
    "--wait-duration",
    default="15m",
    show_default=True,
    help="How long --wait waits (e.g. 30s, 5m).",
)
@output_option("text", "json", default="text")
@pass_state
def status(state: State, wait: bool, wait_duration: str, output: str) -> None:
    """Show the cluster's ClusterMesh status (as `cilium clustermesh status`)."""
    from cmesh.cli.meshstatus import render_status, status_data

    cfg = state.home.cluster(state.context)
    limit = _wait_seconds(wait_duration)
    mgr = _mgr(state)
    start = time.monotonic()
    try:
        while True:
            mgr.refresh()
            data = status_data(mgr, cfg)
            not_ready = data["connectivity"]["not_ready"]
            waited = time.monotonic() - start
            if not wait or not not_ready or waited >= limit:
                break
            state.console.info(
                f"⌛ Waiting ({waited:.0f}s) for clusters to be connected: {not_ready} nodes are not ready"
            )
            time.sleep(1.0)
    finally:
        mgr.close()
    if output == "json":
        state.console.raw(json.dumps(data, indent=2))
    else:
        state.console.print(render_status(data))
    if wait and data["connectivity"]["not_ready"]:
        raise CmeshError(
            f"timeout waiting for clusters to be connected to {cfg.name} ({wait_duration})",
            hint="the errors above name each cluster that is not ready: check that it is enabled "
            "(`cmesh clustermesh enable`) and connected, or wait longer with --wait-duration",
        )
