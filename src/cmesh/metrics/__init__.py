"""Prometheus metrics of each cluster, with Cilium's and Hubble's names (ref §5).

Names are imported on first use (PEP 562) so that commands load only what they need."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cmesh._lazy import lazy_exports

_EXPORTS: dict[str, tuple[str, str]] = {
    "add": ("cmesh.metrics.store", "add"),
    "cluster_gauges": ("cmesh.metrics.gauges", "cluster_gauges"),
    "count": ("cmesh.metrics.counters", "count"),
    "load": ("cmesh.metrics.store", "load"),
    "render": ("cmesh.metrics.exposition", "render"),
}

__all__ = [
    "add",
    "cluster_gauges",
    "count",
    "load",
    "render",
]

if TYPE_CHECKING:
    from cmesh.metrics.counters import count
    from cmesh.metrics.exposition import render
    from cmesh.metrics.gauges import cluster_gauges
    from cmesh.metrics.store import add, load


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
