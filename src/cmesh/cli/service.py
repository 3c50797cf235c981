"""``cmesh service list``: the load-balancing table, as ``cilium-dbg service list`` prints it."""

from __future__ import annotations

import json

import click

from cmesh.cli.options import State, context_option, output_option, pass_state
from cmesh.cli.render import table


@click.group()
def service() -> None:
    """Service load-balancing tables (ref §3.7)."""


@service.command("list")
@click.option(
    "--clustermesh-affinity",
    is_flag=True,
    help="Mark the backends affinity prefers with (preferred).",
)
@output_option("text", "json", default="text")
@context_option
@pass_state
def list_(state: State, clustermesh_affinity: bool, output: str) -> None:
    """Frontends and backends of every service, local and from the mesh."""
    from cmesh.datapath import load_mesh

    mesh = load_mesh(state.home)
    view = mesh.view(state.home.cluster(state.context).name)
    rows = []
    data = []
    for i, ((ns, name), lb) in enumerate(sorted(view.lb.items()), 1):
        for sp in lb.ports:
            bes = lb.backends_for(sp)
            preferred = set(lb.preferred(sp)) if lb.affinity.value != "none" else set()
            entry = {
                "id": i,
                "service": f"{ns}/{name}",
                "frontend": f"{lb.cluster_ip}:{sp.port}/{sp.protocol}",
                "type": lb.type,
                "global": lb.global_,
                "shared": lb.shared,
                "affinity": lb.affinity.value,
                "backends": [
                    {
                        "address": f"{b.ip}:{b.port}/{b.protocol}",
                        "cluster": b.cluster,
                        "pod": f"{b.namespace}/{b.pod}" if b.pod else "",
                        "preferred": b in preferred,
                    }
                    for b in bes
                ],
            }
            data.append(entry)
            lines = []
            for j, b in enumerate(bes, 1):
                mark = " (preferred)" if clustermesh_affinity and b in preferred else ""
                lines.append(f"{j} => {b.ip}:{b.port}/{b.protocol} (active) [{b.cluster}]{mark}")
            rows.append((str(i), entry["frontend"], lb.type, lines or ["(no backends)"]))
    if output == "json":
        state.console.raw(json.dumps(data, indent=2))
        return
    # one table row per frontend with its first backend; the others go under it, aligned
    text = table(("ID", "Frontend", "Service Type", "Backend"), [(*r[:3], r[3][0]) for r in rows])
    header, *body = text.split("\n")
    col = header.index("Backend")
    out = [header]
    for line, r in zip(body, rows, strict=True):
        out.append(line)
        out += [" " * col + extra for extra in r[3][1:]]
    state.console.print("\n".join(out))
