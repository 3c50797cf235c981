"""Assemble a cluster's exposition: stored counters and scrape-time gauges."""

from __future__ import annotations

from typing import Any


def exposition(home: Any, cfg: Any) -> bytes:
    from cmesh.datapath import load_mesh
    from cmesh.mesh import MeshManager
    from cmesh.metrics import cluster_gauges, load, render

    mesh = load_mesh(home)
    view = mesh.view(cfg.name)
    mgr = MeshManager(home)
    try:
        statuses = mgr.statuses(cfg.name)
    finally:
        mgr.close()
    node = next(iter(sorted(view.inventory.nodes)), "")
    return render(dict(load(home.store, cfg.name)), cluster_gauges(view, statuses, node))
