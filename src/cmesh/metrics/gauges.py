"""Gauges read from a cluster's state at scrape time: policies, identities, ClusterMesh (ref §5.1)."""

from __future__ import annotations

from typing import Any

from cmesh.identity import is_local, is_reserved

Gauge = tuple[str, str, dict[str, str], float]


def cluster_gauges(view: Any, statuses: dict[str, Any], node: str) -> list[Gauge]:
    """``view`` is the cluster's ClusterView; ``statuses`` its RemoteStatus by remote name."""
    engine = view.engine
    out: list[Gauge] = [
        ("cilium_policy", "Number of policies currently loaded", {}, float(len(engine.repo))),
        (
            "cilium_policy_max_revision",
            "Highest policy revision number in the agent",
            {},
            float(engine.repo.revision),
        ),
    ]
    kinds = {"cluster_local": 0, "node_local": 0, "reserved": 0, "remote_cluster": 0}
    for ident in engine.cache.identities:
        if is_reserved(ident):
            kinds["reserved"] += 1
        elif is_local(ident):
            kinds["node_local"] += 1
        elif ident in engine.local:
            kinds["cluster_local"] += 1
        else:
            kinds["remote_cluster"] += 1
    out += [
        ("cilium_identity", "Number of identities currently allocated", {"type": k}, float(v))
        for k, v in kinds.items()
    ]
    src = {"source_cluster": view.name, "source_node_name": node}
    out.append(
        (
            "cilium_clustermesh_remote_clusters",
            "The total number of remote clusters meshed with the local cluster",
            dict(src),
            float(len(statuses)),
        )
    )
    out.append(
        (
            "cilium_clustermesh_global_services",
            "The total number of global services in the cluster mesh",
            dict(src),
            float(sum(1 for lb in view.lb.values() if lb.global_)),
        )
    )
    for name, st in sorted(statuses.items()):
        labels = {**src, "target_cluster": name}
        out += [
            (
                "cilium_clustermesh_remote_cluster_readiness_status",
                "The readiness status of remote clusters",
                dict(labels),
                1.0 if st.ready else 0.0,
            ),
            (
                "cilium_clustermesh_remote_cluster_failures",
                "The total number of failures related to the remote cluster",
                dict(labels),
                float(st.num_failures),
            ),
            (
                "cilium_clustermesh_remote_cluster_last_failure_ts",
                "The timestamp of the last failure of the remote cluster",
                dict(labels),
                float(st.last_failure),
            ),
            (
                "cilium_clustermesh_remote_cluster_nodes",
                "The total number of nodes in the remote cluster",
                dict(labels),
                float(sum(1 for c in view.remote_node_cluster.values() if c == name)),
            ),
            (
                "cilium_clustermesh_remote_cluster_cache_revocations",
                "Number of times the remote cluster's cache was revoked",
                {"mode": "ttl", "target_cluster": name, **src},
                float(st.cache_revocations),
            ),
        ]
    return out
