"""Remote clusters as one cluster's agents see them: sync, cache, stale entries, status (ref §3.5).

For each connected remote, the local cluster keeps a copy of the remote's exported keys in its
own store (KVStoreMesh's cache, ref §3.4).  A sync:

1. reads the remote's ``cilium/cluster-config/<name>`` and validates it (``ValidateRemoteConfig``:
   a valid id, the same max-connected-clusters, ref §3.3); a missing config fails the sync;
2. compares the remote's export epoch with the cached one; if equal, nothing to do;
3. otherwise lists the remote's state and replaces the cache in one transaction: every cached key
   not seen again is deleted once the listing is complete (the stale-marking of §3.5).

When the remote cannot be reached the cache is kept — traffic to known remote peers keeps its
verdicts — and the status records the failure (count, time) and drops readiness.  With a cache
TTL (``clustermesh-cache-ttl``) a remote unreachable for longer is revoked.  Disconnecting
drains the cache.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from cmesh.cluster import ClusterConfig
from cmesh.errors import CmeshError
from cmesh.identity import allocation_range
from cmesh.kvstore import Delete, Put, Store
from cmesh.mesh import keys
from cmesh.mesh.state import RemoteData, parse_kvs


@dataclass
class RemoteStatus:
    """``models.RemoteCluster`` of the agent's status (ref §3.6)."""

    name: str
    ready: bool = False
    connected: bool = False
    status: str = "unknown status"
    num_failures: int = 0
    last_failure: float = 0.0
    last_success: float = 0.0
    config: dict[str, Any] = field(
        default_factory=lambda: {
            "required": True,
            "retrieved": False,
            "cluster-id": 0,
            "kvstoremesh": True,
            "sync-canaries": True,
        }
    )
    synced: dict[str, bool] = field(
        default_factory=lambda: {
            "nodes": False,
            "endpoints": False,
            "identities": False,
            "services": False,
        }
    )
    epoch: int = -1
    entries: int = 0
    cache_revocations: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> RemoteStatus:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in known})


def load_status(store: Store, local: str, remote: str) -> RemoteStatus:
    kv = store.get(keys.status(local, remote))
    return RemoteStatus.from_json(json.loads(kv.value)) if kv else RemoteStatus(remote)


def save_status(store: Store, local: str, st: RemoteStatus) -> None:
    store.put(keys.status(local, st.name), json.dumps(st.to_json(), sort_keys=True).encode())


def validate_remote_config(local: ClusterConfig, remote: str, cfg: dict[str, Any]) -> str:
    """``ValidateRemoteConfig``: '' when acceptable, else why not."""
    rid = int(cfg.get("id", 0))
    mcc = int((cfg.get("capabilities") or {}).get("maxConnectedClusters", 255))
    if rid == 0 or rid > mcc:
        return f"remote cluster {remote} has invalid cluster id {rid} (ClusterID 0 is reserved)"
    if mcc != local.max_connected_clusters:
        return f"remote cluster {remote} has max-connected-clusters {mcc}, this cluster {local.max_connected_clusters}; they must be equal"
    if rid == local.id:
        return f"remote cluster {remote} has the same cluster id {rid} as this cluster"
    return ""


def cached(store: Store, local: str, remote: str) -> RemoteData:
    """The remote's state as last synced into the local cache."""
    prefix = keys.cache(local, remote)
    kvs, _ = store.list(prefix)
    return parse_kvs(remote, {kv.key[len(prefix) :]: kv.value for kv in kvs})


def sync(
    local_store: Store,
    local: ClusterConfig,
    remote: str,
    remote_store: Store | None,
    now: float,
    *,
    error: str = "",
    received: dict[str, RemoteData] | None = None,
) -> RemoteStatus:
    """One round of the remote watcher for ``remote``; returns (and saves) its status.

    Two small reads (the remote's config and export epoch) tell whether anything changed;
    only then is its state listed.  ``received[remote]`` gets the parsed state when it was.
    """
    st = load_status(local_store, local.name, remote)
    try:
        if remote_store is None:
            raise CmeshError(error or f"kvstore of cluster {remote} is not reachable")
        root = keys.root(remote)
        cfg_kv = remote_store.get(root + keys.cluster_config(remote))
        if cfg_kv is None:
            raise CmeshError("remote cluster configuration required but not found")
        cfg = json.loads(cfg_kv.value)
        problem = validate_remote_config(local, remote, cfg)
        if problem:
            raise CmeshError(problem)
        st.config.update({"retrieved": True, "cluster-id": int(cfg["id"])})
        epoch_kv = remote_store.get(keys.export_epoch(remote))
        epoch = json.loads(epoch_kv.value).get("epoch", 0) if epoch_kv else 0
        if epoch != st.epoch or not st.ready:
            kvs, _ = remote_store.list(root + "cilium/")
            fresh = {
                kv.key[len(root) :]: kv.value for kv in kvs if not kv.key.endswith(keys.HEARTBEAT)
            }
            rid = int(cfg["id"])
            lo, hi = allocation_range(rid, local.max_connected_clusters)
            # identities outside the remote's range would collide with ours: never import them
            fresh = {
                k: v
                for k, v in fresh.items()
                if not k.startswith(keys.IDENTITIES) or lo <= int(k[len(keys.IDENTITIES) :]) <= hi
            }
            prefix = keys.cache(local.name, remote)
            old, _ = local_store.list(prefix)
            old_map = {kv.key[len(prefix) :]: kv.value for kv in old}
            ops: list[Put | Delete] = [
                Delete(prefix + k) for k in sorted(set(old_map) - set(fresh))
            ]
            ops += [Put(prefix + k, v) for k, v in sorted(fresh.items()) if old_map.get(k) != v]
            if ops:
                local_store.txn([], ops)
            data = parse_kvs(remote, fresh)
            if received is not None:
                received[remote] = data
            synced = data.synced
            st.synced = {name: p in synced for name, p in keys.state_prefixes(remote).items()}
            st.epoch = epoch
            st.entries = len(fresh)
        st.connected = True
        st.ready = all(st.synced.values())
        missing = [n for n, ok in st.synced.items() if not ok]
        st.status = "ready" if st.ready else "synchronization in progress for " + ", ".join(missing)
        st.last_success = now
    except CmeshError as exc:
        st.connected = False
        st.ready = False
        st.num_failures += 1
        st.last_failure = now
        st.status = exc.message
        if (
            local.clustermesh_cache_ttl > 0
            and st.last_success
            and now - st.last_success > local.clustermesh_cache_ttl
        ):
            revoke(local_store, local.name, remote)
            st.cache_revocations += 1
            st.last_success = 0.0
            st.epoch = -1
            st.synced = {k: False for k in st.synced}
    save_status(local_store, local.name, st)
    return st


def revoke(store: Store, local: str, remote: str) -> None:
    """Drop everything learned from ``remote`` (disconnect, or cache TTL expiry)."""
    store.delete(keys.cache(local, remote), prefix=True)
