"""The agent keeps a cluster's view current incrementally, and answers as a fresh build does."""

from __future__ import annotations

import json

from cmesh.agent import Agent
from cmesh.datapath import Mesh, Peer, PeerKind, decide
from cmesh.policy import Endpoint, Protocol
from cmesh.registry import Home
from tests.conftest import SEED, Cmesh, guide_clusters


def setup(cmesh: Cmesh) -> Home:
    guide_clusters(cmesh, SEED / "workloads.yaml")
    return Home.open(cmesh.home)


def ingress_verdict(
    mesh: Mesh, src: Endpoint, dst: Endpoint, port: int, side: str = "ingress"
) -> str | None:
    """The name of ``side``'s verdict of a TCP flow between two pods (None: not enforced)."""
    fv = decide(
        mesh,
        Peer(PeerKind.POD, src.ip, src.cluster, endpoint=src),
        Peer(PeerKind.POD, dst.ip, dst.cluster, endpoint=dst),
        Protocol.TCP,
        port,
        explain=False,
    )
    decided = getattr(fv, side)
    return decided.decision.verdict.name if decided else None


def verdicts(view, remote_views) -> dict:
    """Every pod-to-pod ingress verdict on 5432/TCP and 80/TCP, keyed by names."""
    mesh = Mesh({view.name: view, **{v.name: v for v in remote_views}})
    return {
        (src.ref, dst.ref, port): ingress_verdict(mesh, src, dst, port)
        for dst in view.endpoints.values()
        for v in [view, *remote_views]
        for src in v.endpoints.values()
        for port in (80, 5432)
    }


def test_incremental_policy_and_pod_changes_equal_a_fresh_view(cmesh: Cmesh, manifest):
    home = setup(cmesh)
    logs: list[str] = []
    a = Agent(home, "cluster-1", log=logs.append)
    a.step()
    assert any("loaded" in x for x in logs)
    cmesh(
        "apply",
        "-f",
        str(SEED / "policies" / "allow-from-cluster-1.yaml"),
        "--context",
        "cluster-1",
    )
    changes = a.step()
    assert any("allow-from-cluster-1 updated" in c for c in changes)
    newpod = manifest(
        "p.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: extra, labels: {app: api, tier: new}}\n",
    )
    cmesh("apply", "-f", str(newpod), "--context", "cluster-1")
    changes = a.step()
    assert any("identities +1" in c for c in changes)
    fresh = Agent(home, "cluster-1", log=lambda _m: None)
    fresh.step()
    b = Agent(home, "cluster-2", log=lambda _m: None)
    b.step()
    assert verdicts(a.view, [b.view]) == verdicts(fresh.view, [b.view])
    cmesh(
        "delete",
        "-f",
        str(SEED / "policies" / "allow-from-cluster-1.yaml"),
        "--context",
        "cluster-1",
    )
    assert any("removed" in c for c in a.step())
    a.close()
    fresh.close()
    b.close()


def test_remote_pod_becomes_decidable_and_disconnect_drains(cmesh: Cmesh, manifest):
    home = setup(cmesh)
    a = Agent(home, "cluster-1", log=lambda _m: None)
    a.step()
    pod = manifest(
        "p.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: newcomer, labels: {app: newcomer}}\n"
    )
    cmesh("apply", "-f", str(pod), "--context", "cluster-2")
    changes = a.step()
    assert any(c.startswith("remote cluster-2") for c in changes)
    ips = [ep.ip for ep in a.view.remote_endpoints.values() if ep.name == "newcomer"]
    assert ips, "the new remote pod is in cluster-1's ipcache"
    ident = a.view.remote_endpoints[ips[0]].identity
    assert ident in a.view.engine.cache.identities
    cmesh(
        "clustermesh", "disconnect", "--context", "cluster-1", "--destination-context", "cluster-2"
    )
    changes = a.step()
    assert any("drained" in c for c in changes)
    assert ident not in a.view.engine.cache.identities and ips[0] not in a.view.remote_endpoints
    a.close()


def test_heartbeat_lives_under_a_lease_ref_3_3(cmesh: Cmesh):
    home = setup(cmesh)
    a = Agent(home, "cluster-1", log=lambda _m: None)
    a.step()
    kv = home.store.get("clustermesh/cluster-1/cilium/.heartbeat")
    assert kv is not None and kv.lease != 0
    a.close()
    assert home.store.get("clustermesh/cluster-1/cilium/.heartbeat") is None


def test_agent_once_cli(cmesh: Cmesh):
    setup(cmesh)
    res = cmesh("agent", "--context", "cluster-1", "--once")
    assert "loaded" in res.stderr
    data = json.loads(cmesh("clustermesh", "status", "--context", "cluster-1", "-o", "json").output)
    assert data["remote_clusters"][0]["ready"]


def test_a_remote_node_that_goes_away_leaves_the_ipcache_ref_3_5(cmesh: Cmesh, manifest):
    """A remote node deleted in its cluster is no longer ``remote-node`` to the agent, just as
    a fresh build of the view no longer knows it (the remote watcher deletes what the remote
    deleted, ref §3.5)."""
    home = setup(cmesh)
    a = Agent(home, "cluster-1", log=lambda _m: None)
    a.step()
    node = manifest("n.yaml", "apiVersion: v1\nkind: Node\nmetadata: {name: extra-node}\n")
    cmesh("apply", "-f", str(node), "--context", "cluster-2")
    a.step()
    ip = next(ip for ip, n in a.view.remote_nodes.items() if n.name == "extra-node")
    assert a.view.remote_node_cluster[ip] == "cluster-2"
    cmesh("delete", "-f", str(node), "--context", "cluster-2")
    a.step()
    fresh = Agent(home, "cluster-1", log=lambda _m: None)
    fresh.step()
    assert ip not in fresh.view.remote_nodes
    assert ip not in a.view.remote_nodes and ip not in a.view.remote_node_cluster
    a.close()
    fresh.close()


def test_incremental_pods_keep_one_map_per_named_port_variant_ref_1_8(cmesh: Cmesh, manifest):
    """Pods of one identity whose named ports differ each get their own map (ref §1.8); pods
    added while the agent runs are split the same way a fresh build splits them."""
    home = setup(cmesh)
    a = Agent(home, "cluster-1", log=lambda _m: None)
    a.step()
    pods = "---\n".join(
        f"apiVersion: v1\nkind: Pod\nmetadata: {{name: web-{port}, labels: {{app: web}}}}\n"
        f"spec: {{containers: [{{name: c, ports: [{{name: http, containerPort: {port}}}]}}]}}\n"
        for port in (8080, 9090)
    )
    cmesh("apply", "-f", str(manifest("web.yaml", pods)), "--context", "cluster-1")
    a.step()
    fresh = Agent(home, "cluster-1", log=lambda _m: None)
    fresh.step()
    (ident,) = {ep.identity for ep in fresh.view.endpoints.values() if ep.name.startswith("web-")}
    assert len(fresh.view.engine.endpoint_variants(ident)) == 2
    assert a.view.engine.endpoint_variants(ident) == fresh.view.engine.endpoint_variants(ident)
    a.close()
    fresh.close()


def test_a_service_change_recompiles_the_policies_that_name_it_ref_1_6(cmesh: Cmesh, manifest):
    """``toServices`` allows the pods the Service selects (ref §1.6): when the Service's
    selector changes, the agent's policy follows it, as a fresh build of the view does."""
    home = setup(cmesh)
    a = Agent(home, "cluster-1", log=lambda _m: None)
    a.step()
    pol = (
        "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: fe-to-db-svc}\n"
        "spec:\n  endpointSelector: {matchLabels: {app: frontend}}\n  egress:\n"
        "  - toServices: [{k8sService: {serviceName: database, namespace: default}}]\n"
    )
    cmesh("apply", "-f", str(manifest("p.yaml", pol)), "--context", "cluster-1")
    a.step()
    svc = (
        "apiVersion: v1\nkind: Service\nmetadata: {name: database, namespace: default}\n"
        "spec:\n  selector: {app: api}\n  ports: [{port: 5432}]\n"
    )
    cmesh("apply", "-f", str(manifest("svc.yaml", svc)), "--context", "cluster-1")
    a.step()
    fresh = Agent(home, "cluster-1", log=lambda _m: None)
    fresh.step()
    mesh_a, mesh_f = Mesh({a.view.name: a.view}), Mesh({fresh.view.name: fresh.view})
    eps = {ep.name.split("-")[0]: ep for ep in fresh.view.endpoints.values()}
    fe, api = eps["frontend"], eps["api"]
    assert ingress_verdict(mesh_f, fe, api, 5432, "egress") == "FORWARDED"
    assert ingress_verdict(mesh_a, fe, api, 5432, "egress") == "FORWARDED"
    a.close()
    fresh.close()
