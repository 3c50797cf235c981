"""``clustermesh enable|disable|connect|disconnect`` with Cilium's checks (ref §3.2-§3.5)."""

from __future__ import annotations

import ipaddress

from cmesh.cluster import ClusterConfig
from cmesh.errors import InvalidCluster
from cmesh.kvstore import Delete, Put
from cmesh.mesh import keys
from cmesh.mesh.export import remove_export
from cmesh.mesh.manager import MeshManager, connection_record
from cmesh.mesh.remote import revoke

SERVICE_TYPES = ("LoadBalancer", "NodePort", "ClusterIP")


def enable(
    mgr: MeshManager, cfg: ClusterConfig, service_type: str, kvstore: str = ""
) -> ClusterConfig:
    """Deploy the clustermesh-apiserver: the cluster starts exporting its state (ref §3.4)."""
    if cfg.id == 0:
        raise InvalidCluster(
            f"cluster {cfg.name} has cluster id 0: ClusterID 0 is reserved and cannot join a mesh",
            hint="re-install the cluster with --cluster-id 1-255 (ref §3.2)",
        )
    new = cfg.with_options(
        clustermesh_enabled=True,
        clustermesh_service_type=service_type,
        clustermesh_kvstore=kvstore or cfg.clustermesh_kvstore,
    )
    mgr.home.save_cluster(new, create=False)
    mgr.export(new)
    return new


def disable(mgr: MeshManager, cfg: ClusterConfig) -> ClusterConfig:
    for remote in mgr.connections(cfg.name):
        disconnect_one(mgr, cfg.name, remote)
    for other in mgr.home.clusters():
        if cfg.name in mgr.connections(other.name):
            disconnect_one(mgr, other.name, cfg.name)
    remove_export(mgr.export_store(cfg), cfg.name)
    new = cfg.with_options(clustermesh_enabled=False)
    mgr.home.save_cluster(new, create=False)
    return new


def check_pair(a: ClusterConfig, b: ClusterConfig) -> None:
    """Why two clusters cannot be connected, as an error (ref §3.2, §3.3 ValidateRemoteConfig)."""
    if a.name == b.name:
        raise InvalidCluster(
            f"cannot connect cluster {a.name} to itself",
            hint="give another cluster's context as --destination-context",
        )
    for c in (a, b):
        if c.id == 0:
            raise InvalidCluster(
                f"cluster {c.name} has cluster id 0: ClusterID 0 is reserved and cannot join a mesh",
                hint="re-install it with a cluster id 1-255",
            )
        if not c.clustermesh_enabled:
            raise InvalidCluster(
                f"clustermesh is not enabled on cluster {c.name}",
                hint=f"run `cmesh clustermesh enable --context {c.context}` first",
            )
    if a.id == b.id:
        raise InvalidCluster(
            f"clusters {a.name} and {b.name} have the same cluster id {a.id}",
            hint="cluster ids must be unique across the mesh (ref §3.2)",
        )
    if a.max_connected_clusters != b.max_connected_clusters:
        raise InvalidCluster(
            f"max-connected-clusters differs: {a.name} has {a.max_connected_clusters}, {b.name} has {b.max_connected_clusters}",
            hint="it must be equal on every cluster and can only be set at install (ref §3.2)",
        )
    if ipaddress.ip_network(a.pod_cidr).overlaps(ipaddress.ip_network(b.pod_cidr)):
        raise InvalidCluster(
            f"pod CIDRs overlap: {a.name} {a.pod_cidr}, {b.name} {b.pod_cidr}",
            hint="PodCIDRs must be unique across the mesh (ref §3.2)",
        )


def connect(
    mgr: MeshManager, a: ClusterConfig, b: ClusterConfig, *, bidirectional: bool = True
) -> None:
    """Write the connection (the ``cilium-clustermesh`` secret) and run a first sync round."""
    check_pair(a, b)
    ops = [Put(keys.connection(a.name, b.name), connection_record(b, b.clustermesh_service_type))]
    if bidirectional:
        ops.append(
            Put(keys.connection(b.name, a.name), connection_record(a, a.clustermesh_service_type))
        )
    mgr.store.txn([], ops)
    mgr.export(a)
    mgr.export(b)
    mgr.sync(a)
    if bidirectional:
        mgr.sync(b)


def disconnect_one(mgr: MeshManager, local: str, remote: str) -> None:
    """Remove a connection and drain everything learned from the remote (ref §3.5 onRemove)."""
    mgr.store.txn([], [Delete(keys.connection(local, remote)), Delete(keys.status(local, remote))])
    revoke(mgr.store, local, remote)


def disconnect(
    mgr: MeshManager, a: ClusterConfig, b: ClusterConfig, *, bidirectional: bool = True
) -> None:
    disconnect_one(mgr, a.name, b.name)
    if bidirectional:
        disconnect_one(mgr, b.name, a.name)
