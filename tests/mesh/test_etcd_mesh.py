"""ClusterMesh on a real etcd: the guide's steps, and a remote etcd that goes away (ref §3.5).

The etcd servers are started by the tests (Debian's etcd-server, installed by
./scripts/install-test-servers); without the binary these tests skip.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cmesh.agent import Agent
from cmesh.datapath import Mesh
from cmesh.registry import Home
from tests.agent.test_agent import ingress_verdict
from tests.conftest import SEED, Cmesh, guide_clusters
from tests.etcd import running_etcd
from tests.mesh.test_clustermesh import MANIFESTS

pytestmark = pytest.mark.etcd


@pytest.fixture
def etcd_home(tmp_path: Path):
    (tmp_path / "etcd").mkdir()
    with running_etcd(tmp_path / "etcd") as server:
        yield server


def test_guide_clustermesh_steps_on_etcd(cmesh: Cmesh, etcd_home):
    kv = ("--kvstore", etcd_home.url)
    guide_clusters(cmesh, *MANIFESTS, n=3, flags=kv)
    status = json.loads(
        cmesh(*kv, "clustermesh", "status", "--context", "cluster-1", "--wait", "-o", "json").output
    )
    assert {r["name"] for r in status["remote_clusters"] if r["ready"]} == {
        "cluster-2",
        "cluster-3",
    }
    t = json.loads(
        cmesh(
            *kv,
            "policy",
            "trace",
            "--from",
            "cluster-2/default/api",
            "--to",
            "cluster-1/default/database",
            "--port",
            "5432",
            "-o",
            "json",
            "--context",
            "cluster-1",
        ).output
    )
    assert (t["verdict"], t["decided_at"]) == ("DROPPED", "ingress")
    t = json.loads(
        cmesh(
            *kv,
            "policy",
            "trace",
            "--from",
            "cluster-1/default/api",
            "--to",
            "cluster-2/default/database",
            "--port",
            "5432",
            "-o",
            "json",
            "--context",
            "cluster-1",
        ).output
    )
    assert t["verdict"] == "FORWARDED"
    out = cmesh(*kv, "get", "svc", "payment-service", "-o", "wide", "--context", "cluster-1").output
    assert "cluster-1: 3, cluster-2: 3, cluster-3: 3" in out
    # the state really is in etcd: a second home directory pointed at it sees the same mesh
    other = Cmesh(cmesh.home.parent / "elsewhere", cmesh.runner)
    assert "cluster-3" in other(*kv, "config", "get-contexts").output


def _verdict(view_a, view_b, src_name: str, dst_name: str, port: int) -> str:
    src = next(e for e in view_b.endpoints.values() if e.name.startswith(src_name))
    dst = next(e for e in view_a.endpoints.values() if e.name.startswith(dst_name))
    mesh = Mesh({view_a.name: view_a, view_b.name: view_b})
    return ingress_verdict(mesh, src, dst, port) or "?"


def test_remote_etcd_outage_keeps_entries_then_resyncs_ref_3_5(
    cmesh: Cmesh, tmp_path: Path, manifest
):
    """cluster-2's clustermesh state lives in its own etcd; cluster-1 watches it."""
    (tmp_path / "remote").mkdir()
    with running_etcd(tmp_path / "remote") as remote:
        guide_clusters(cmesh, SEED / "workloads.yaml", connect=False)
        allow = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: db-from-c2}\nspec:\n  endpointSelector: {matchLabels: {app: database}}\n  ingress:\n  - fromEndpoints: [{matchLabels: {app: api, io.cilium.k8s.policy.cluster: cluster-2}}]\n"
        cmesh("apply", "-f", str(manifest("a.yaml", allow)), "--context", "cluster-1")
        cmesh("clustermesh", "enable", "--context", "cluster-1", "--service-type", "LoadBalancer")
        cmesh(
            "clustermesh",
            "enable",
            "--context",
            "cluster-2",
            "--service-type",
            "LoadBalancer",
            "--kvstore",
            remote.url,
        )
        cmesh(
            "clustermesh", "connect", "--context", "cluster-1", "--destination-context", "cluster-2"
        )
        home = Home.open(cmesh.home)
        a = Agent(home, "cluster-1", log=lambda _m: None)
        b = Agent(home, "cluster-2", log=lambda _m: None)
        a.step()
        b.step()
        assert a.mgr.statuses("cluster-1")["cluster-2"].ready
        before = _verdict(a.view, b.view, "api-h", "database", 5432)
        assert before == "FORWARDED"
        known = {ep.name for ep in a.view.remote_endpoints.values()}
        assert any(n.startswith("api-west") for n in known)

        remote.stop()
        a.step()
        st = a.mgr.statuses("cluster-1")["cluster-2"]
        assert not st.ready and st.num_failures >= 1 and st.last_failure > 0
        assert _verdict(a.view, b.view, "api-h", "database", 5432) == before  # entries kept
        out = cmesh("clustermesh", "status", "--context", "cluster-1").output
        assert "not connected to cluster cluster-2" in out
        # while cluster-2's etcd is down, one of its workloads goes away
        gone = manifest("w.yaml", (SEED / "workloads.yaml").read_text().split("---")[2])
        assert "api-west" in gone.read_text()
        cmesh("delete", "-f", str(gone), "--context", "cluster-2")
        assert any(
            n.startswith("api-west") for n in (ep.name for ep in a.view.remote_endpoints.values())
        )

        remote.restart()
        a.step()
        st = a.mgr.statuses("cluster-1")["cluster-2"]
        assert st.ready
        names = {ep.name for ep in a.view.remote_endpoints.values()}
        assert not any(n.startswith("api-west") for n in names), "stale entry removed after resync"
        assert _verdict(a.view, b.view, "api-h", "database", 5432) == "FORWARDED"
        a.close()
        b.close()


def test_cache_ttl_revokes_an_unreachable_remote_ref_3_5(cmesh: Cmesh, tmp_path: Path):
    (tmp_path / "remote").mkdir()
    with running_etcd(tmp_path / "remote") as remote:
        guide_clusters(cmesh, SEED / "workloads.yaml", connect=False)
        cmesh(
            "clustermesh",
            "enable",
            "--context",
            "cluster-1",
            "--service-type",
            "LoadBalancer",
            "--cache-ttl",
            "60",
        )
        cmesh(
            "clustermesh",
            "enable",
            "--context",
            "cluster-2",
            "--service-type",
            "LoadBalancer",
            "--kvstore",
            remote.url,
        )
        cmesh(
            "clustermesh", "connect", "--context", "cluster-1", "--destination-context", "cluster-2"
        )
        clock = [1000.0]
        home = Home.open(cmesh.home)
        a = Agent(home, "cluster-1", log=lambda _m: None, now=lambda: clock[0])
        a.step()
        assert a.view.remote_endpoints
        remote.stop()
        clock[0] += 30
        a.step()
        assert a.view.remote_endpoints, "within the TTL the cache is kept"
        clock[0] += 60
        a.step()
        st = a.mgr.statuses("cluster-1")["cluster-2"]
        assert st.cache_revocations == 1
        assert not a.view.remote_endpoints, "past the TTL the remote's data is revoked"
        a.close()
