"""One remote watcher round (:func:`cmesh.mesh.remote.sync`) on in-memory stores: what a
cluster imports from a remote's export, and when it refuses the remote (ref §3.1, §3.3)."""

from __future__ import annotations

import json

import pytest

from cmesh.cluster import ClusterConfig
from cmesh.kvstore import MemoryStore, Put
from cmesh.mesh import keys
from cmesh.mesh.remote import cached, sync

LOCAL = ClusterConfig("cluster-1", "cluster-1", 1, "10.1.0.0/16")


def remote_export(cluster_id: int = 2, mcc: int = 255, identities: tuple[int, ...] = ()):
    """cluster-2's clustermesh-apiserver store: its config, identities and sync canaries."""
    root = keys.root("cluster-2")
    cfg = {"id": cluster_id, "capabilities": {"maxConnectedClusters": mcc}}
    kvs = {
        root + keys.cluster_config("cluster-2"): json.dumps(cfg),
        keys.export_epoch("cluster-2"): json.dumps({"epoch": 1}),
        **{
            root
            + keys.IDENTITIES
            + str(i): f"k8s:app=a{i};k8s:io.cilium.k8s.policy.cluster=cluster-2;"
            for i in identities
        },
        **{
            root + keys.synced("cluster-2", p): "1"
            for p in keys.state_prefixes("cluster-2").values()
        },
    }
    store = MemoryStore()
    store.txn([], [Put(k, v.encode()) for k, v in kvs.items()])
    return store


def test_identities_outside_the_remotes_range_are_never_imported_ref_3_1() -> None:
    """cluster 2 allocates 131072-196607 (ref §3.1); an identity it exports from another
    cluster's range (here cluster-1's own 65537) would collide, so it stays out."""
    local = MemoryStore()
    st = sync(local, LOCAL, "cluster-2", remote_export(identities=(131073, 65537)), 1.0)
    assert st.ready
    assert set(cached(local, "cluster-1", "cluster-2").identities) == {131073}


@pytest.mark.parametrize(
    ("remote", "problem"),
    [
        ({"cluster_id": 0}, "invalid cluster id 0"),
        ({"cluster_id": 1}, "same cluster id 1"),
        ({"mcc": 511}, "max-connected-clusters 511"),
    ],
    ids=["id-0", "same-id", "max-connected-clusters"],
)
def test_a_remote_config_that_fails_validation_is_not_synced_ref_3_3(
    remote: dict, problem: str
) -> None:
    """``ValidateRemoteConfig``: the remote is not ready, the status says why, nothing is
    imported."""
    local = MemoryStore()
    st = sync(local, LOCAL, "cluster-2", remote_export(**remote, identities=(131073,)), 1.0)
    assert not st.ready and st.num_failures == 1 and problem in st.status
    assert not cached(local, "cluster-1", "cluster-2").identities
