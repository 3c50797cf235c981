"""Offline analysis for reviews and CI: connectivity list, semantic diff, connectivity tests.

Everything here queries the one policy engine (``cmesh.policy``) through the per-identity policy
maps and ``cmesh.datapath.decide``/``trace``; nothing evaluates a rule on its own
(ARCHITECTURE.md, "One engine, many uses").  Names are imported on first use (PEP 562).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cmesh._lazy import lazy_exports

_EXPORTS: dict[str, tuple[str, str]] = {
    "Analyzer": ("cmesh.analysis.connectivity", "Analyzer"),
    "Connection": ("cmesh.analysis.connectivity", "Connection"),
    "End": ("cmesh.analysis.ends", "End"),
    "LoadedMesh": ("cmesh.analysis.sources", "LoadedMesh"),
    "PairWhy": ("cmesh.analysis.explain", "PairWhy"),
    "PortSet": ("cmesh.analysis.portset", "PortSet"),
    "connections": ("cmesh.analysis.connectivity", "connections"),
    "explain_pair": ("cmesh.analysis.explain", "explain_pair"),
    "load_mesh_source": ("cmesh.analysis.sources", "load"),
}

__all__ = [
    "Analyzer",
    "Connection",
    "End",
    "LoadedMesh",
    "PairWhy",
    "PortSet",
    "connections",
    "explain_pair",
    "load_mesh_source",
]

if TYPE_CHECKING:
    from cmesh.analysis.connectivity import Analyzer, Connection, connections
    from cmesh.analysis.ends import End
    from cmesh.analysis.explain import PairWhy, explain_pair
    from cmesh.analysis.portset import PortSet
    from cmesh.analysis.sources import LoadedMesh
    from cmesh.analysis.sources import load as load_mesh_source


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
