"""Load every cluster of a home into a :class:`Mesh`, through a compiled-view cache.

Building a cluster's view parses its policies (pydantic models) and resolves them; a one-shot
command such as ``policy trace`` should not pay that on every start.  So the compiled view is
kept in the store under ``cmesh/cache/view/<cluster>``, tagged with what it was built from (the
cluster's epoch revision and configuration); any change to either rebuilds it on next use.  The
cache is an optimisation only: deleting it changes no answer.
"""

from __future__ import annotations

import hashlib
import json
import pickle

from cmesh.cluster import ClusterConfig
from cmesh.datapath.peers import Mesh
from cmesh.kvstore import Store
from cmesh.policy.view import ClusterView

CACHE_PREFIX = "cmesh/cache/view/"
#: Bump when the pickled classes change shape.
CACHE_FORMAT = b"cmesh-view-3"


def _token(store: Store, cfg: ClusterConfig) -> bytes:
    from cmesh.registry import keys

    epoch = store.get(keys.epoch_key(cfg.name))
    cfg_hash = hashlib.sha256(json.dumps(cfg.to_dict(), sort_keys=True).encode()).hexdigest()[:16]
    return b"%s:%d:%s\n" % (CACHE_FORMAT, epoch.mod_revision if epoch else 0, cfg_hash.encode())


def load_view(store: Store, cfg: ClusterConfig, *, use_cache: bool = True) -> ClusterView:
    token = _token(store, cfg)
    key = CACHE_PREFIX + cfg.name
    if use_cache:
        kv = store.get(key)
        if kv is not None and kv.value.startswith(token):
            try:
                view = pickle.loads(kv.value[len(token) :])
            except Exception:  # a stale or foreign pickle: rebuild
                view = None
            if isinstance(view, ClusterView):
                return view
    from cmesh.policy.view import build_view
    from cmesh.registry import ClusterRegistry

    stored, _ = ClusterRegistry(store, cfg).stored()
    view = build_view(
        cfg,
        {k: s.obj for k, s in stored.items()},
        {k: s.source for k, s in stored.items()},
        {k: s.lines for k, s in stored.items()},
    )
    view.engine.resolve_all()
    if use_cache:
        store.put(key, token + pickle.dumps(view, protocol=pickle.HIGHEST_PROTOCOL))
    return view


def load_mesh(home: object, *, use_cache: bool = True) -> Mesh:
    """Every cluster of the home (``home`` is a :class:`cmesh.registry.Home`)."""
    store: Store = home.store  # type: ignore[attr-defined]
    views = {cfg.name: load_view(store, cfg, use_cache=use_cache) for cfg in home.clusters()}  # type: ignore[attr-defined]
    return Mesh(views)
