"""ClusterMesh on the embedded store: enable, connect, status, selection across clusters,
global services, disconnect (ref §3)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SEED, Cmesh, guide_clusters

MANIFESTS = (
    SEED / "payment.yaml",
    SEED / "workloads.yaml",
    SEED / "policies" / "allow-from-cluster-1.yaml",
)


def mesh(cmesh: Cmesh, n: int = 2) -> Cmesh:
    """The guide's clusters with its workloads and allow-from-cluster-1, all connected."""
    return guide_clusters(cmesh, *MANIFESTS, n=n)


def trace(cmesh: Cmesh, src: str, dst: str, port: int, ctx: str = "cluster-1") -> dict:
    return json.loads(
        cmesh(
            "policy",
            "trace",
            "--from",
            src,
            "--to",
            dst,
            "--port",
            str(port),
            "-o",
            "json",
            "--context",
            ctx,
        ).output
    )


def test_status_shows_the_other_cluster_ready_ref_3_6(cmesh: Cmesh):
    mesh(cmesh)
    out = cmesh("clustermesh", "status", "--context", "cluster-1", "--wait").output
    assert "✅ All 2 nodes are connected to all clusters" in out
    assert "- cluster-2: 2/2 configured, 2/2 connected" in out
    data = json.loads(cmesh("clustermesh", "status", "--context", "cluster-2", "-o", "json").output)
    assert data["connectivity"]["clusters"]["cluster-1"]["connected"] == 2
    (remote,) = data["remote_clusters"]
    assert remote["ready"] and remote["config"]["retrieved"] and remote["config"]["cluster-id"] == 1
    assert remote["synced"] == {
        "nodes": True,
        "endpoints": True,
        "identities": True,
        "services": True,
    }


def test_guides_allow_from_cluster_1_ref_1_14(cmesh: Cmesh):
    mesh(cmesh)
    ok = trace(cmesh, "cluster-1/default/api", "cluster-1/default/database", 5432)
    assert ok["verdict"] == "FORWARDED"
    bad = trace(cmesh, "cluster-2/default/api", "cluster-1/default/database", 5432)
    assert (bad["verdict"], bad["drop_reason"], bad["decided_at"]) == (
        "DROPPED",
        "POLICY_DENIED",
        "ingress",
    )
    assert (
        bad["ingress"]["peer_labels"]
        and "k8s:io.cilium.k8s.policy.cluster=cluster-2" in bad["ingress"]["peer_labels"]
    )
    miss = bad["ingress"]["nearest_misses"][0]["mismatches"][0]
    assert miss["field"] == "cluster"


def test_new_pod_in_cluster_2_becomes_selectable_from_cluster_1(cmesh: Cmesh, manifest):
    mesh(cmesh)
    f = manifest(
        "t.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: newcomer, labels: {app: api}}\n"
    )
    cmesh("apply", "-f", str(f), "--context", "cluster-2")
    t = trace(cmesh, "cluster-2/default/newcomer", "cluster-1/default/database", 5432)
    assert t["ingress"]["peer_identity"] == t["src"]["identity"]  # known to cluster-1, not world
    assert 131072 <= t["src"]["identity"] <= 196607  # cluster-2's range, ref §3.1


def test_global_shared_service_lists_backends_of_both_clusters_ref_3_7(cmesh: Cmesh):
    mesh(cmesh)
    out = cmesh("get", "svc", "payment-service", "-o", "wide", "--context", "cluster-1").output
    assert "cluster-1: 3, cluster-2: 3" in out
    data = json.loads(cmesh("service", "list", "-o", "json", "--context", "cluster-1").output)
    pay = next(d for d in data if d["service"] == "default/payment-service")
    assert {b["cluster"] for b in pay["backends"]} == {"cluster-1", "cluster-2"}
    api = next(d for d in data if d["service"] == "default/api")
    assert {b["cluster"] for b in api["backends"]} == {"cluster-1"}  # not global


@pytest.mark.parametrize(
    ("affinity", "preferred"),
    [("local", {"cluster-1"}), ("remote", {"cluster-2"}), ("none", set())],
)
def test_affinity_marks_preferred_backends_ref_3_7(cmesh: Cmesh, manifest, affinity, preferred):
    mesh(cmesh)
    svc = (
        (SEED / "payment.yaml")
        .read_text()
        .split("---")[0]
        .replace(
            'service.cilium.io/shared: "true"',
            f'service.cilium.io/shared: "true"\n    service.cilium.io/affinity: "{affinity}"',
        )
    )
    cmesh("apply", "-f", str(manifest("svc.yaml", svc)), "--context", "cluster-1")
    data = json.loads(
        cmesh(
            "service", "list", "--clustermesh-affinity", "-o", "json", "--context", "cluster-1"
        ).output
    )
    pay = next(d for d in data if d["service"] == "default/payment-service")
    assert pay["affinity"] == affinity
    assert {b["cluster"] for b in pay["backends"] if b["preferred"]} == preferred
    out = cmesh("service", "list", "--clustermesh-affinity", "--context", "cluster-1").output
    assert ("(preferred)" in out) == bool(preferred)


def test_unshared_service_is_consumed_but_not_exported_ref_3_7(cmesh: Cmesh, manifest):
    mesh(cmesh)
    svc = (
        (SEED / "payment.yaml")
        .read_text()
        .split("---")[0]
        .replace('service.cilium.io/shared: "true"', 'service.cilium.io/shared: "false"')
    )
    cmesh("apply", "-f", str(manifest("svc.yaml", svc)), "--context", "cluster-2")
    one = json.loads(cmesh("service", "list", "-o", "json", "--context", "cluster-1").output)
    two = json.loads(cmesh("service", "list", "-o", "json", "--context", "cluster-2").output)
    pay1 = next(d for d in one if d["service"] == "default/payment-service")
    pay2 = next(d for d in two if d["service"] == "default/payment-service")
    assert {b["cluster"] for b in pay1["backends"]} == {"cluster-1"}
    assert {b["cluster"] for b in pay2["backends"]} == {"cluster-1", "cluster-2"}


def test_three_clusters(cmesh: Cmesh):
    mesh(cmesh, 3)
    data = json.loads(cmesh("clustermesh", "status", "--context", "cluster-3", "-o", "json").output)
    assert set(data["connectivity"]["clusters"]) == {"cluster-1", "cluster-2"}
    assert all(r["ready"] for r in data["remote_clusters"])
    t = trace(cmesh, "cluster-3/default/api", "cluster-1/default/database", 5432)
    assert (
        t["verdict"] == "DROPPED"
        and "k8s:io.cilium.k8s.policy.cluster=cluster-3" in t["ingress"]["peer_labels"]
    )


def test_disconnect_drains_what_was_learned_ref_3_5(cmesh: Cmesh):
    mesh(cmesh)
    before = trace(cmesh, "cluster-2/default/api", "cluster-1/default/database", 5432)
    assert before["ingress"]["peer_identity"] == before["src"]["identity"]
    cmesh(
        "clustermesh", "disconnect", "--context", "cluster-1", "--destination-context", "cluster-2"
    )
    after = trace(cmesh, "cluster-2/default/api", "cluster-1/default/database", 5432)
    assert after["ingress"]["peer_identity"] == 2  # world: no ipcache entry any more
    assert not [
        k for k in cmesh.store_dump() if k.startswith("clustermesh/cluster-1/cache/cluster-2/")
    ]
    out = cmesh("clustermesh", "status", "--context", "cluster-1").output
    assert "No cluster connected" in out


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (
            ["install", "--context", "zero", "--cluster-name", "zero", "--cluster-id", "0"],
            "ClusterID 0 is reserved",
        ),
        (
            [
                "install",
                "--context",
                "wide",
                "--cluster-name",
                "wide",
                "--cluster-id",
                "300",
                "--set",
                "clustermesh.maxConnectedClusters=511",
            ],
            "max-connected-clusters differs",
        ),
    ],
    ids=["cluster-id-0", "max-connected-clusters"],
)
def test_connect_refuses_with_reason_ref_3_2(cmesh: Cmesh, setup, message):
    mesh(cmesh, 1)
    cmesh(*setup)
    ctx = setup[2]
    res = cmesh("clustermesh", "enable", "--context", ctx, "--service-type", "NodePort", ok=False)
    if res.exit_code == 0:
        res = cmesh(
            "clustermesh",
            "connect",
            "--context",
            "cluster-1",
            "--destination-context",
            ctx,
            ok=False,
        )
    assert res.exit_code == 1 and message in res.stderr


def test_connect_needs_enable(cmesh: Cmesh):
    cmesh("install", "--context", "a", "--cluster-name", "a", "--cluster-id", "1")
    cmesh("install", "--context", "b", "--cluster-name", "b", "--cluster-id", "2")
    res = cmesh("clustermesh", "connect", "--context", "a", "--destination-context", "b", ok=False)
    assert "clustermesh is not enabled on cluster a" in res.stderr


def test_policy_default_local_cluster_switch_ref_1_14(cmesh: Cmesh, manifest):
    mesh(cmesh)
    pol = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: fe}\nspec:\n  endpointSelector: {matchLabels: {app: frontend}}\n  ingress:\n  - fromEndpoints: [{matchLabels: {app: api}}]\n"
    cmesh("apply", "-f", str(manifest("fe.yaml", pol)), "--context", "cluster-1")
    assert (
        trace(cmesh, "cluster-2/default/api", "cluster-1/default/frontend", 80)["verdict"]
        == "DROPPED"
    )
    cmesh("config", "set", "policy-default-local-cluster", "false", "--context", "cluster-1")
    assert (
        trace(cmesh, "cluster-2/default/api", "cluster-1/default/frontend", 80)["verdict"]
        == "FORWARDED"
    )


def test_connect_to_itself_says_what_to_give_instead(cmesh: Cmesh):
    mesh(cmesh, 1)
    res = cmesh(
        "clustermesh", "connect", "--context", "cluster-1", "--destination-context", "cluster-1",
        ok=False,
    )  # fmt: skip
    assert res.exit_code == 1 and "cannot connect cluster cluster-1 to itself" in res.stderr
    assert "another cluster's context as --destination-context" in res.stderr


NAMED_SERVER = """\
apiVersion: v1
kind: Pod
metadata: {{name: server, labels: {{app: server}}}}
spec:
  containers:
  - name: c
    image: x
    ports: [{{name: web, containerPort: {port}}}]
"""

NAMED_EGRESS = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: client-out}
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
  - toEndpoints: [{matchLabels: {app: server, io.cilium.k8s.policy.cluster: cluster-2}}]
    toPorts: [{ports: [{port: web, protocol: TCP}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, labels: {app: client}}
"""


def test_egress_named_port_follows_the_remote_pods_port_ref_1_8(cmesh: Cmesh, manifest):
    """An egress port name resolves against remote clusters' pods too (their NamedPorts reach
    the ipcache through the mesh, cilium/cilium pkg/ipcache/kvstore.go), and follows a change
    of the remote pod's container port."""
    mesh(cmesh)
    cmesh("apply", "-f", str(manifest("c1.yaml", NAMED_EGRESS)), "--context", "cluster-1")
    cmesh(
        "apply",
        "-f",
        str(manifest("s.yaml", NAMED_SERVER.format(port=8443))),
        "--context",
        "cluster-2",
    )
    dst = "cluster-2/default/server"
    assert trace(cmesh, "cluster-1/default/client", dst, 8443)["verdict"] == "FORWARDED"
    cmesh(
        "apply",
        "-f",
        str(manifest("s2.yaml", NAMED_SERVER.format(port=9443))),
        "--context",
        "cluster-2",
    )
    moved = trace(cmesh, "cluster-1/default/client", dst, 8443)
    assert (moved["verdict"], moved["decided_at"]) == ("DROPPED", "egress")
    assert trace(cmesh, "cluster-1/default/client", dst, 9443)["verdict"] == "FORWARDED"
