"""Load every cluster of a home into a :class:`Mesh` (one read of the store per cluster)."""

from __future__ import annotations

from cmesh.datapath.peers import Mesh
from cmesh.policy.view import build_view
from cmesh.registry import ClusterRegistry, Home


def load_mesh(home: Home) -> Mesh:
    views = {}
    for cfg in home.clusters():
        stored, _ = ClusterRegistry(home.store, cfg).stored()
        views[cfg.name] = build_view(
            cfg,
            {k: s.obj for k, s in stored.items()},
            {k: s.source for k, s in stored.items()},
            {k: s.lines for k, s in stored.items()},
        )
    return Mesh(views)
