"""``cmesh clustermesh``: enable, connect, disconnect and status, as the cilium CLI has them."""

from __future__ import annotations

import json
import time
from typing import Any

import click

from cmesh.cli.options import State, context_option, output_option, pass_state


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
    if service_type is None:
        service_type = "NodePort"
        state.console.warn(
            "⚠️  Service type NodePort detected! Service may fail when nodes are removed from the cluster!"
        )
    elif service_type == "NodePort":
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


@clustermesh.command()
@context_option
@click.option(
    "--destination-context",
    "dest",
    required=True,
    metavar="CTX[,CTX…]",
    help="Cluster(s) to connect to.",
)
@click.option(
    "--connection-mode",
    type=click.Choice(["bidirectional", "unicast"]),
    default="bidirectional",
    show_default=True,
)
@pass_state
def connect(state: State, dest: str, connection_mode: str) -> None:
    """Connect the cluster with the destination cluster(s)."""
    from cmesh.mesh import connect as do_connect

    a = state.home.cluster(state.context)
    mgr = _mgr(state)
    try:
        for d in [x for x in dest.split(",") if x]:
            b = state.home.cluster(d)
            do_connect(mgr, a, b, bidirectional=connection_mode == "bidirectional")
            arrow = "<=>" if connection_mode == "bidirectional" else "=>"
            state.console.print(f"✅ Connected cluster {a.name} {arrow} {b.name}!")
    finally:
        mgr.close()


@clustermesh.command()
@context_option
@click.option("--destination-context", "dest", required=True, metavar="CTX[,CTX…]")
@click.option(
    "--connection-mode",
    type=click.Choice(["bidirectional", "unicast"]),
    default="bidirectional",
    show_default=True,
)
@pass_state
def disconnect(state: State, dest: str, connection_mode: str) -> None:
    """Disconnect and drain everything learned from the destination cluster(s)."""
    from cmesh.mesh import disconnect as do_disconnect

    a = state.home.cluster(state.context)
    mgr = _mgr(state)
    try:
        for d in [x for x in dest.split(",") if x]:
            b = state.home.cluster(d)
            do_disconnect(mgr, a, b, bidirectional=connection_mode == "bidirectional")
            state.console.print(f"✅ Disconnected cluster {a.name} and {b.name}.")
    finally:
        mgr.close()


def _parse_duration(text: str) -> float:
    import re

    total = 0.0
    for num, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text):
        total += float(num) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
    if not total and text.replace(".", "").isdigit():
        total = float(text)
    return total


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
    from cmesh.errors import CmeshError

    cfg = state.home.cluster(state.context)
    mgr = _mgr(state)
    deadline = time.monotonic() + _parse_duration(wait_duration)
    try:
        while True:
            mgr.refresh()
            data = status_data(mgr, cfg)
            not_ready = data["connectivity"]["not_ready"]
            if not wait or not not_ready or time.monotonic() >= deadline:
                break
            state.console.info(
                f"⌛ Waiting ({_parse_duration(wait_duration) - (deadline - time.monotonic()):.0f}s) for clusters to be connected: {not_ready} nodes are not ready"
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
            "timeout waiting for clusters to be connected", hint="check the errors above"
        )
