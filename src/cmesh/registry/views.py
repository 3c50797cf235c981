"""A cluster's compiled view, built from what the store holds for it."""

from __future__ import annotations

from collections.abc import Mapping

from cmesh.cluster import ClusterConfig, ObjKey
from cmesh.kvstore import Store
from cmesh.policy.view import ClusterView, build_view
from cmesh.registry.registry import ClusterRegistry, Stored


def view_from_stored(cfg: ClusterConfig, stored: Mapping[ObjKey, Stored]) -> ClusterView:
    """The cluster on its own, from objects already read with :meth:`ClusterRegistry.stored`."""
    return build_view(
        cfg,
        {k: s.obj for k, s in stored.items()},
        {k: s.source for k, s in stored.items()},
        {k: s.lines for k, s in stored.items()},
    )


def build_local_view(store: Store, cfg: ClusterConfig) -> ClusterView:
    """The cluster on its own, from its stored objects (no remote state)."""
    stored, _ = ClusterRegistry(store, cfg).stored()
    return view_from_stored(cfg, stored)
