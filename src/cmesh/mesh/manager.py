"""ClusterMesh for a home: exports, connections, remote syncs and imports, in one place.

Every command that needs cross-cluster state goes through a :class:`MeshManager`: it keeps each
enabled cluster's export current, runs one sync round per connection (cheap when nothing
changed: one epoch probe), and hands out the imported :class:`RemoteData` a view is built with.
``cmesh agent`` runs the same rounds continuously; one-shot commands run one round, so both
give the same answers.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cmesh.cluster import ClusterConfig
from cmesh.errors import CmeshError
from cmesh.kvstore import Store, open_store
from cmesh.mesh import keys
from cmesh.mesh.export import export_source, write_export
from cmesh.mesh.remote import RemoteStatus, cached, load_status, sync
from cmesh.mesh.state import RemoteData
from cmesh.policy.view import ClusterView


@dataclass
class MeshManager:
    home: Any  # cmesh.registry.Home (not imported: the mesh layer sits below the registry CLI)
    now: Callable[[], float] = time.time
    _stores: dict[str, Store] = field(default_factory=dict)

    @property
    def store(self) -> Store:
        return self.home.store  # type: ignore[no-any-return]

    def clusters(self) -> dict[str, ClusterConfig]:
        return {c.name: c for c in self.home.clusters()}

    def export_store(self, cfg: ClusterConfig) -> Store:
        """Where ``cfg``'s clustermesh-apiserver keeps its state (the home's store by default)."""
        url = cfg.clustermesh_kvstore
        if not url:
            return self.store
        if url not in self._stores:
            self._stores[url] = open_store(url)
        return self._stores[url]

    def close(self) -> None:
        for s in self._stores.values():
            s.close()
        self._stores.clear()

    # -- connections -----------------------------------------------------------------------
    def connections(self, local: str) -> list[str]:
        kvs, _ = self.store.list(keys.connections(local))
        return sorted(kv.key.rsplit("/", 1)[1] for kv in kvs)

    def cluster_revision(self, cfg: ClusterConfig) -> int:
        from cmesh.registry import keys as rkeys

        kv = self.store.get(rkeys.epoch_key(cfg.name))
        return kv.mod_revision if kv else 0

    # -- exports ---------------------------------------------------------------------------
    def export(self, cfg: ClusterConfig, view: ClusterView | None = None) -> bool:
        """Rewrite ``cfg``'s export if it is stale; ``view`` avoids rebuilding one."""
        if not cfg.clustermesh_enabled:
            return False
        try:
            store = self.export_store(cfg)
            rev = self.cluster_revision(cfg)
            if view is None and export_source(store, cfg) == rev:
                return False
            if view is None:
                from cmesh.registry.views import build_local_view

                view = build_local_view(self.store, cfg)
            return write_export(store, view, rev)
        except CmeshError:
            return False  # an unreachable export store shows up as remote failures

    # -- syncs -----------------------------------------------------------------------------
    def sync(
        self,
        local: ClusterConfig,
        only: set[str] | None = None,
        *,
        received: dict[str, RemoteData] | None = None,
        clusters: dict[str, ClusterConfig] | None = None,
        connections: list[str] | None = None,
    ) -> dict[str, RemoteStatus]:
        """One watcher round for every remote of ``local`` (or only those in ``only``, whose
        statuses are all that is returned); ``received`` gets each remote's state that was
        read again (see :func:`cmesh.mesh.remote.sync`)."""
        out = {}
        clusters = clusters if clusters is not None else self.clusters()
        for remote in connections if connections is not None else self.connections(local.name):
            if only is not None and remote not in only:
                continue
            rcfg = clusters.get(remote)
            store: Store | None = None
            error = ""
            if rcfg is None:
                error = f"cluster {remote} is no longer in this home"
            elif not rcfg.clustermesh_enabled:
                error = f"clustermesh is not enabled on cluster {remote}"
            else:
                try:
                    store = self.export_store(rcfg)
                    self.export(rcfg)
                except CmeshError as exc:
                    error = exc.message
            out[remote] = sync(
                self.store,
                local,
                remote,
                store if not error else None,
                self.now(),
                error=error,
                received=received,
            )
        return out

    def export_epochs(self, clusters: dict[str, ClusterConfig]) -> dict[str, str]:
        """Every enabled cluster's export epoch: one range read of the home store, plus one get
        per cluster whose clustermesh state lives in a store of its own."""
        out: dict[str, str] = {}
        kvs, _ = self.store.list(keys.EPOCHS)
        for kv in kvs:
            out[kv.key[len(keys.EPOCHS) :]] = kv.value.decode()
        for cfg in clusters.values():
            if cfg.clustermesh_enabled and cfg.clustermesh_kvstore:
                try:
                    kv = self.export_store(cfg).get(keys.epoch_index(cfg.name))
                except CmeshError:
                    out[cfg.name] = "unreachable"
                    continue
                out[cfg.name] = kv.value.decode() if kv else ""
        return out

    def refresh(self) -> None:
        """Exports of every enabled cluster, then one sync round for every cluster."""
        clusters = self.clusters()
        for cfg in clusters.values():
            self.export(cfg)
        for cfg in clusters.values():
            if self.connections(cfg.name):
                self.sync(cfg)

    def imports(self, local: ClusterConfig) -> list[RemoteData]:
        return [cached(self.store, local.name, r) for r in self.connections(local.name)]

    def imports_token(self, local: ClusterConfig) -> str:
        """What the imported state of ``local`` currently is (for the compiled-view cache)."""
        parts = []
        for r in self.connections(local.name):
            st = load_status(self.store, local.name, r)
            parts.append(f"{r}@{st.epoch}:{st.entries}")
        return ",".join(parts)

    def statuses(self, local: str) -> dict[str, RemoteStatus]:
        return {r: load_status(self.store, local, r) for r in self.connections(local)}


def connection_record(remote: ClusterConfig, service_type: str) -> bytes:
    return json.dumps(
        {
            "cluster": remote.name,
            "id": remote.id,
            "endpoint": remote.clustermesh_kvstore or "home",
            "service_type": service_type,
        },
        sort_keys=True,
    ).encode()
