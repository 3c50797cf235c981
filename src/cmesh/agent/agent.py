"""One cluster's agent: keeps its view (identities, ipcache, policy maps, LB) current.

The agent watches what it depends on — its own cluster's objects, its clustermesh connections
and each remote cluster's export — and applies changes *incrementally* to the engine it holds:
a changed policy is re-imported alone (``PolicyEngine.set_policy``), a new or vanished identity
is added or removed in the selector cache, and only the maps that use the affected selectors are
dropped for re-materialisation (ref §9, ARCHITECTURE "agent").  It also keeps its cluster's
export current and a heartbeat key alive under a lease, as Cilium's clustermesh-apiserver does
(``cilium/.heartbeat``, ref §3.3).

Change detection polls cheap revision probes (one get per source) instead of holding a watch
per key space: it works the same on SQLite, where watches poll anyway, and on etcd.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cmesh.cluster import ClusterConfig
from cmesh.mesh import MeshManager
from cmesh.mesh import keys as mkeys
from cmesh.mesh.state import RemoteData, apply_imports
from cmesh.policy.view import ClusterView
from cmesh.registry import ClusterRegistry
from cmesh.registry.views import view_from_stored

Log = Callable[[str], None]


@dataclass
class Agent:
    home: Any
    context: str
    log: Log = print
    heartbeat_ttl: float = 60.0
    now: Callable[[], float] = time.time
    view: ClusterView | None = None
    _cfg: ClusterConfig | None = None
    _cluster_rev: int = -1
    _objects: dict[Any, Any] = field(default_factory=dict)
    _remote: dict[str, RemoteData] = field(default_factory=dict)
    _remote_epochs: dict[str, str] = field(default_factory=dict)
    _seen_epochs: dict[str, str] = field(default_factory=dict)
    _ready: dict[str, bool] = field(default_factory=dict)
    _statuses: dict[str, Any] = field(default_factory=dict)
    _beat: float = 0.0
    _lease: int = 0
    _mgr: MeshManager | None = None

    @property
    def cfg(self) -> ClusterConfig:
        assert self._cfg is not None
        return self._cfg

    @property
    def mgr(self) -> MeshManager:
        if self._mgr is None:
            self._mgr = MeshManager(self.home, now=self.now)
        return self._mgr

    def close(self) -> None:
        if self._lease:
            with contextlib.suppress(Exception):  # best effort on shutdown
                self.mgr.export_store(self.cfg).lease_revoke(self._lease)
        if self._mgr is not None:
            self._mgr.close()

    # -- one round ----------------------------------------------------------------------------
    def step(self) -> list[str]:
        """Apply whatever changed since the last round; returns what was done (for the log)."""
        changes: list[str] = []
        clusters = self.mgr.clusters()
        cfg = next(
            (c for c in clusters.values() if c.context == self.context), None
        ) or self.home.cluster(self.context)
        if self._cfg is not None and cfg != self._cfg:
            changes.append("cluster settings changed: rebuilding the view")
            self.view = None
        self._cfg = cfg
        rev = self.mgr.cluster_revision(cfg)
        moved = rev != self._cluster_rev
        if self.view is None:
            self._full_load()
            changes.append(
                f"loaded {len(self.view.endpoints) if self.view else 0} endpoints, {len(self.view.engine.repo) if self.view else 0} rules"
            )
        elif rev != self._cluster_rev:
            changes += self._local_changes()
        self._cluster_rev = rev
        if cfg.clustermesh_enabled and moved and self.mgr.export(cfg, self.view):
            changes.append("exported cluster state to the mesh")
        changes += self._remote_changes(clusters)
        if self.now() - self._beat >= self.heartbeat_ttl / 3:
            self._heartbeat()
        for c in changes:
            self.log(f"{cfg.name}: {c}")
        return changes

    def run(self, *, interval: float = 0.2, stop: Callable[[], bool] = lambda: False) -> None:
        while not stop():
            self.step()
            time.sleep(interval)

    # -- local cluster ----------------------------------------------------------------------------
    def _full_load(self) -> None:
        stored, _ = ClusterRegistry(self.home.store, self.cfg).stored()
        self._objects = stored
        self.view = view_from_stored(self.cfg, stored)
        self._remote = {}
        self._remote_epochs = {}
        self._seen_epochs = {}
        self._ready = {}

    def _local_changes(self) -> list[str]:
        """Diff the cluster's objects and apply the difference to the engine."""
        from cmesh.cluster import IDENTITY_KIND
        from cmesh.model import POLICY_KINDS, from_stored
        from cmesh.policy.importer import import_resource
        from cmesh.policy.view import PolicySource, import_context

        assert self.view is not None
        stored, _ = ClusterRegistry(self.home.store, self.cfg).stored()
        old, self._objects = self._objects, stored
        changed = {
            k
            for k in set(old) | set(stored)
            if (old.get(k) and old[k].obj) != (stored.get(k) and stored[k].obj)
        }
        out: list[str] = []
        structural = {k for k in changed if k[0] not in POLICY_KINDS}
        policies = {k for k in changed if k[0] in POLICY_KINDS}
        ctx = import_context(self.cfg, self.view.inventory)  # what the rules were compiled with
        if structural:
            # pods, namespaces, identities or services changed: rebuild endpoints and identities,
            # keeping the engine's rules; the selector cache re-evaluates only what those touch.
            fresh = view_from_stored(self.cfg, stored)
            eng = self.view.engine
            old_local = set(eng.local)
            new_local = set(fresh.engine.local)
            for ident in sorted(old_local - new_local):
                eng.remove_identity(ident)
            for ident in sorted(new_local):
                info = fresh.engine.identity(ident)
                if info is not None:
                    eng.upsert_identity(
                        info, local=True, endpoint_ports=fresh.engine.endpoint_variants(ident)
                    )
            added, removed = new_local - old_local, old_local - new_local
            self.view.inventory = fresh.inventory
            self.view.endpoints, self.view.by_ip = fresh.endpoints, fresh.by_ip
            self.view.rebuild_services()
            kinds = sorted({k[0] for k in structural if k[0] != IDENTITY_KIND})
            out.append(
                f"{len(structural)} object(s) changed ({', '.join(kinds) or 'identities'}): identities +{len(added)} -{len(removed)}"
            )
            before, ctx = ctx, import_context(self.cfg, self.view.inventory)
            if ctx != before:  # a Service or CIDR group that rules may name changed (ref §1.6)
                policies |= {k for k in stored if k[0] in POLICY_KINDS}
        for key in sorted(policies):
            if key in stored:
                res = from_stored(
                    dict(stored[key].obj), stored[key].source, dict(stored[key].lines)
                )
                rules = import_resource(res, ctx)
                self.view.engine.set_policy(key, rules)
                self.view.policies[key] = PolicySource(
                    res.kind, res.namespace, res.name, str(res.source)
                )
                touched = (
                    set().union(*(self.view.engine.subjects(r.subject) for r in rules))
                    if rules
                    else set()
                )
                out.append(
                    f"policy {key[0]} {key[1]}/{key[2]} updated: {len(rules)} rule(s), {len(touched)} identity map(s) re-resolved"
                )
            else:
                self.view.engine.remove_policy(key)
                self.view.policies.pop(key, None)
                out.append(f"policy {key[0]} {key[1]}/{key[2]} removed")
        return out

    # -- remote clusters ----------------------------------------------------------------------------
    def _remote_changes(self, clusters: dict[str, ClusterConfig]) -> list[str]:
        assert self.view is not None
        out: list[str] = []
        epochs = self.mgr.export_epochs(clusters)
        connections = self.mgr.connections(self.cfg.name)
        # sync only the remotes whose export moved, that are not ready, or that are new
        due = {
            r
            for r in connections
            if epochs.get(r) != self._seen_epochs.get(r)
            or not self._ready.get(r)
            or r not in self._remote
        }
        received: dict[str, RemoteData] = {}
        fresh = (
            self.mgr.sync(
                self.cfg,
                only=due,
                received=received,
                clusters=clusters,
                connections=connections,
            )
            if due
            else {}
        )
        for r, st in fresh.items():
            self._seen_epochs[r] = epochs.get(r, "")
            self._ready[r] = st.ready
            self._statuses[r] = st
        for r in set(self._statuses) - set(connections):
            self._statuses.pop(r)
        statuses = {r: self._statuses[r] for r in connections if r in self._statuses}
        current = {}
        for name, st in statuses.items():
            token = f"{st.epoch}:{st.entries}:{st.ready}"
            if self._remote_epochs.get(name) != token:
                self._remote_epochs[name] = token
                current[name] = True
            if st.num_failures and not st.ready:
                out.append(
                    f"remote {name} not ready ({st.status}); keeping {st.entries} cached entries"
                )
        gone = set(self._remote) - set(statuses)
        for name in sorted(gone):
            self._drain(name)
            self._remote.pop(name)
            out.append(f"remote {name} disconnected: drained")
        for name in sorted(current):
            from cmesh.mesh.remote import cached

            data = received.get(name) or cached(self.home.store, self.cfg.name, name)
            before = self._remote.get(name)
            if before is not None:
                self._forget(before, keep=data)
            self._remote[name] = data
            apply_imports(
                self.view, [data], services=[s for d in self._remote.values() for s in d.services]
            )
            out.append(
                f"remote {name}: {len(data.identities)} identities, {len(data.endpoints)} endpoints, {len(data.services)} global services"
            )
        return out

    def _forget(self, data: RemoteData, *, keep: RemoteData | None = None) -> None:
        """Take what ``data`` taught out of the view: its identities (those ``keep`` still
        has stay, so their selections are not churned), its ipcache entries and nodes."""
        assert self.view is not None
        for ident in sorted(set(data.identities) - set(keep.identities if keep else ())):
            self.view.engine.remove_identity(ident)
        for ep in data.endpoints:
            self.view.remote_endpoints.pop(ep.ip, None)
        for n in data.nodes:
            self.view.remote_nodes.pop(n.ip, None)
            self.view.remote_node_cluster.pop(n.ip, None)

    def _drain(self, name: str) -> None:
        assert self.view is not None
        self._forget(self._remote[name])
        self.view.rebuild_services(
            [s for r, d in self._remote.items() if r != name for s in d.services]
        )

    # -- heartbeat ------------------------------------------------------------------------------------
    def _heartbeat(self) -> None:
        if not self.cfg.clustermesh_enabled:
            return
        store = self.mgr.export_store(self.cfg)
        key = mkeys.root(self.cfg.name) + mkeys.HEARTBEAT
        try:
            if not self._lease or not store.lease_keepalive(self._lease):
                self._lease = store.lease_grant(self.heartbeat_ttl)
            store.put(key, str(self.now()).encode(), lease=self._lease)
            self._beat = self.now()
        except Exception as exc:
            self.log(f"{self.cfg.name}: heartbeat failed: {exc}")
            self._lease = 0
