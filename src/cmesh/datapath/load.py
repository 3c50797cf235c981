"""Load every cluster of a home into a :class:`Mesh`, through a compiled-view cache.

Building a cluster's view parses its policies (pydantic models) and resolves them; a one-shot
command such as ``policy trace`` should not pay that on every start.  So the compiled view is
kept in the store under ``cmesh/cache/view/<cluster>``, tagged with what it was built from: the
cluster's epoch revision, its configuration, and the state imported from its remote clusters.
Any change rebuilds it on next use.  The cache is an optimisation only: deleting it changes no
answer.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from typing import TYPE_CHECKING

from cmesh.cluster import ClusterConfig
from cmesh.datapath.peers import Mesh
from cmesh.kvstore import Store
from cmesh.policy.view import ClusterView

if TYPE_CHECKING:
    from cmesh.mesh.manager import MeshManager
    from cmesh.registry import Home

CACHE_PREFIX = "cmesh/cache/view/"
#: Bump when the pickled classes change shape.
CACHE_FORMAT = b"cmesh-view-4"


def _token(store: Store, cfg: ClusterConfig, imports: str) -> bytes:
    from cmesh.registry import keys

    epoch = store.get(keys.epoch_key(cfg.name))
    blob = json.dumps([cfg.to_dict(), imports], sort_keys=True).encode()
    digest = hashlib.sha256(blob).hexdigest()[:24].encode()
    return b"%s:%d:%s\n" % (CACHE_FORMAT, epoch.mod_revision if epoch else 0, digest)


HOSTS_PREFIX = "cmesh/dns/hosts/"


def load_hosts(store: Store) -> dict[str, tuple[str, ...]]:
    """The world's DNS (``cmesh dns add``): name -> addresses."""
    kvs, _ = store.list(HOSTS_PREFIX)
    return {kv.key[len(HOSTS_PREFIX) :]: tuple(json.loads(kv.value)) for kv in kvs}


def load_view(
    mgr: MeshManager, cfg: ClusterConfig, *, local: ClusterView | None = None
) -> ClusterView:
    """``cfg``'s view with what it imports from its connected clusters: from the cache when
    that is current, else built (on ``local``, the cluster's own view, when the caller has
    one), compiled and cached."""
    store = mgr.store
    token = _token(store, cfg, mgr.imports_token(cfg))
    key = CACHE_PREFIX + cfg.name
    kv = store.get(key)
    if kv is not None and kv.value.startswith(token):
        try:
            view = pickle.loads(kv.value[len(token) :])
        except Exception:  # a stale or foreign pickle: rebuild
            view = None
        if isinstance(view, ClusterView):
            return view
    if local is None:
        from cmesh.registry.views import build_local_view

        local = build_local_view(store, cfg)
    from cmesh.mesh.state import apply_imports

    apply_imports(local, mgr.imports(cfg))
    local.engine.resolve_all()
    store.put(key, token + pickle.dumps(local, protocol=pickle.HIGHEST_PROTOCOL))
    return local


def load_mesh(home: Home) -> Mesh:
    """Every cluster of the home, each with what it imported from its connected clusters
    after one sync round."""
    from cmesh.mesh.manager import MeshManager

    mgr = MeshManager(home)
    try:
        mgr.refresh()
        clusters = home.clusters()
        mesh = Mesh(
            {cfg.name: load_view(mgr, cfg) for cfg in clusters},
            {cfg.name: set(mgr.connections(cfg.name)) for cfg in clusters},
            load_hosts(home.store),
        )
        learn_fqdns(home.store, mesh)
        return mesh
    finally:
        mgr.close()


def warm(home: Home, cfg: ClusterConfig) -> ClusterView:
    """After a change to ``cfg``'s cluster: re-export it and recompile its view, so the next
    command (and the other clusters' next sync) starts from fresh state.  Returns the view."""
    from cmesh.mesh.manager import MeshManager
    from cmesh.registry.views import build_local_view

    mgr = MeshManager(home)
    try:
        view = build_local_view(mgr.store, cfg)
        mgr.export(cfg, view)  # the export is the cluster's own state: before the imports join
        load_view(mgr, cfg, local=view)
    finally:
        mgr.close()
    return view


FQDN_PREFIX = "cmesh/fqdn/"


def learned(store: Store, cluster: str, now: float) -> dict[str, set[str]]:
    """Addresses the DNS proxy learned in ``cluster`` that are still within their TTL."""
    kvs, _ = store.list(f"{FQDN_PREFIX}{cluster}/")
    out: dict[str, set[str]] = {}
    for kv in kvs:
        d = json.loads(kv.value)
        for name, exp in d.get("names", {}).items():
            if exp > now:
                out.setdefault(d["ip"], set()).add(name)
    return out


def learn_fqdns(store: Store, mesh: Mesh, now: float | None = None) -> None:
    """Replay what each cluster's DNS proxy learned and is still within its TTL (ref §2.11)."""
    import time

    t = time.time() if now is None else now
    for name, view in mesh.views.items():
        for ip, names in sorted(learned(store, name, t).items()):
            for n in sorted(names):
                view.learn_fqdn(n, [ip])
