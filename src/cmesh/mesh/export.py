"""A cluster's clustermesh-apiserver: write its state into its kvstore under Cilium's keys.

The export is derived state.  It is rewritten whenever it is older than the cluster itself
(the cluster's epoch revision is recorded with it), as one transaction that puts what changed,
deletes what went away, and bumps the export epoch other clusters probe for freshness.
"""

from __future__ import annotations

import json

from cmesh.cluster import ClusterConfig
from cmesh.kvstore import Compare, Delete, KeyValue, Put, Store
from cmesh.mesh import keys
from cmesh.mesh.state import export_kvs
from cmesh.policy.view import ClusterView


def _epoch_record(kv: KeyValue | None) -> dict[str, int]:
    """The export epoch key's value: ``{"epoch": n, "source": cluster revision}``."""
    if kv is None:
        return {}
    try:
        d = json.loads(kv.value)
    except ValueError:
        return {}
    return d if isinstance(d, dict) else {}


def export_source(export_store: Store, cfg: ClusterConfig) -> int:
    """The cluster epoch revision the current export was built from (0: none)."""
    return int(_epoch_record(export_store.get(keys.export_epoch(cfg.name))).get("source", 0))


def write_export(export_store: Store, view: ClusterView, source_revision: int) -> bool:
    """Bring the export up to date with ``view``; returns whether anything was written."""
    root = keys.root(view.name)
    want = {root + k: v for k, v in export_kvs(view).items()}
    have_kvs, _ = export_store.list(root + "cilium/")
    have = {kv.key: kv.value for kv in have_kvs if not kv.key.endswith(keys.HEARTBEAT)}
    ops: list[Put | Delete] = [Delete(k) for k in sorted(set(have) - set(want))]
    ops += [Put(k, v) for k, v in sorted(want.items()) if have.get(k) != v]
    epoch_key = keys.export_epoch(view.name)
    old = export_store.get(epoch_key)
    prev = _epoch_record(old)
    if not ops and prev.get("source", 0) == source_revision:
        return False
    epoch = {"epoch": prev.get("epoch", 0) + (1 if ops else 0), "source": source_revision}
    export_store.txn(
        [Compare.unchanged(epoch_key, old.mod_revision if old else 0)],
        [
            *ops,
            Put(epoch_key, json.dumps(epoch).encode()),
            Put(keys.epoch_index(view.name), str(epoch["epoch"]).encode()),
        ],
    )
    return bool(ops)


def remove_export(export_store: Store, cluster: str) -> None:
    export_store.delete(keys.root(cluster) + "cilium/", prefix=True)
    export_store.delete(keys.export_epoch(cluster))
    export_store.delete(keys.epoch_index(cluster))
