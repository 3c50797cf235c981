"""Scenario files: clusters, manifests and flows with the verdict Cilium gives each (STYLE.md).

Each ``tests/scenarios/<topic>/<name>.yaml`` holds::

    ref: "§2.3"                      # the sections the scenario pins
    clusters:                        # installed in order; settings as `cmesh config set` names
      - {name: c1, id: 1, settings: {policy-enforcement: default}, manifests: "<yaml>"}
    connected: [[c1, c2]]            # optional: clustermesh connections
    flows:
      - {from: c1/default/web, to: c1/default/db, port: 5432, protocol: TCP,
         expect: DROPPED, reason: POLICY_DENIED, at: ingress, why: "..."}

Flow ends: ``CLUSTER/NS/POD-OR-WORKLOAD``, ``ip:ADDR`` (as seen from the other end's cluster),
``svc:CLUSTER/NS/NAME``, ``hostof:CLUSTER/NS/POD`` (the pod's node).  The runner uses only the
pure core (plan, view, decide), no store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from cmesh.cluster import ClusterConfig, PolicyEnforcement, plan_apply
from cmesh.datapath import Mesh, Peer, PeerKind, trace
from cmesh.datapath.tracer import find_pod, find_service
from cmesh.errors import Severity
from cmesh.model import load_text
from cmesh.policy import Protocol, build_view, validate_all

HERE = Path(__file__).parent
FILES = sorted(HERE.glob("*/*.yaml"))


def build(spec: dict[str, Any]) -> Mesh:
    views = {}
    for i, c in enumerate(spec["clusters"]):
        settings = c.get("settings") or {}
        cfg = ClusterConfig(
            context=c["name"],
            name=c["name"],
            id=c.get("id", i + 1),
            pod_cidr=c.get("pod_cidr", f"10.{c.get('id', i + 1)}.0.0/16"),
            node_cidr=f"172.18.{c.get('id', i + 1)}.0/24",
            policy_enforcement=PolicyEnforcement(settings.get("policy-enforcement", "default")),
            policy_default_local_cluster=settings.get("policy-default-local-cluster", True),
            policy_audit_mode=settings.get("policy-audit-mode", False),
            allow_localhost=settings.get("allow-localhost", "auto"),
        )
        resources, diags = load_text(c.get("manifests") or "", f"{c['name']}.yaml")
        errors = [
            d.render() for d in [*diags, *validate_all(resources)] if d.severity is Severity.ERROR
        ]
        assert not errors, errors
        plan = plan_apply(cfg, {}, resources)
        assert plan.ok, [d.render() for d in plan.diagnostics]
        views[cfg.name] = build_view(cfg, plan.objects)
    mesh = Mesh(views)
    for a, b in spec.get("connected") or []:
        mesh.connect(a, b)
    return mesh


def end(mesh: Mesh, text: str, other_cluster: str) -> Peer:
    if text.startswith("ip:"):
        return mesh.resolve(other_cluster, text[3:])
    if text.startswith("svc:"):
        cluster, ns, name = text[4:].split("/")
        return find_service(mesh, cluster, ns, name)
    if text.startswith("hostof:"):
        cluster, ns, name = text[7:].split("/")
        pod = find_pod(mesh, cluster, ns, name)
        assert pod.endpoint is not None
        node = mesh.views[cluster].inventory.nodes[pod.endpoint.node]
        return Peer(PeerKind.NODE, node.ip, cluster, node=node)
    cluster, ns, name = text.split("/")
    return find_pod(mesh, cluster, ns, name)


def _cluster_of(text: str) -> str:
    body = text.split(":", 1)[1] if text.split(":", 1)[0] in ("svc", "hostof") else text
    return body.split("/")[0]


def cases() -> list[Any]:
    out = []
    for f in FILES:
        spec = yaml.safe_load(f.read_text())
        for i, flow in enumerate(spec["flows"]):
            name = (
                flow.get("name")
                or f"{flow['from']}->{flow['to']}:{flow.get('port', 0)}/{flow.get('protocol', 'TCP')}"
            )
            out.append(pytest.param(f, i, id=f"{f.parent.name}/{f.stem}[{i}] {name}"))
    return out


_MESHES: dict[Path, Mesh] = {}


@pytest.mark.parametrize(("path", "index"), cases())
def test_scenario(path: Path, index: int) -> None:
    spec = yaml.safe_load(path.read_text())
    if path not in _MESHES:
        _MESHES[path] = build(spec)
    mesh = _MESHES[path]
    flow = spec["flows"][index]
    first = (
        _cluster_of(flow["from"]) if not flow["from"].startswith("ip:") else _cluster_of(flow["to"])
    )
    src = end(
        mesh, flow["from"], _cluster_of(flow["to"]) if not flow["to"].startswith("ip:") else first
    )
    dst = end(mesh, flow["to"], first)
    t = trace(mesh, src, dst, Protocol.parse(flow.get("protocol", "TCP")), int(flow.get("port", 0)))
    got = t.flow
    why = flow.get("why", "")
    assert got.verdict.name == flow["expect"], (
        f"{why} (ref {flow.get('ref', spec.get('ref'))}); egress={got.egress and got.egress.decision}, ingress={got.ingress and got.ingress.decision}"
    )
    if "reason" in flow:
        assert got.drop_reason is not None and got.drop_reason.name == flow["reason"], why
    if "at" in flow:
        assert got.decided_at == flow["at"], why
    if "policies" in flow:
        assert sorted(
            f"{p.namespace}/{p.name}" if p.namespace else p.name for p in got.policies
        ) == sorted(flow["policies"]), why
    if "l7" in flow:
        side = got.ingress if flow.get("l7_side", "ingress") == "ingress" else got.egress
        assert side is not None
        assert (side.decision.l7 is not None) == flow["l7"], why
