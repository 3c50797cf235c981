"""The store-backed API server of cmesh: homes, contexts, clusters and their objects.

Names are imported on first use (PEP 562) so that commands load only what they need."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cmesh._lazy import lazy_exports

_EXPORTS: dict[str, tuple[str, str]] = {
    "Change": ("cmesh.registry.registry", "Change"),
    "ClusterRegistry": ("cmesh.registry.registry", "ClusterRegistry"),
    "Home": ("cmesh.registry.home", "Home"),
    "bootstrap_manifest": ("cmesh.registry.bootstrap", "bootstrap_manifest"),
    "check": ("cmesh.registry.registry", "check"),
    "default_home": ("cmesh.registry.home", "default_home"),
    "install": ("cmesh.registry.bootstrap", "install"),
    "read_sources": ("cmesh.registry.sources", "read_sources"),
    "read_text_file": ("cmesh.registry.sources", "read_text_file"),
}

__all__ = [
    "Change",
    "ClusterRegistry",
    "Home",
    "bootstrap_manifest",
    "check",
    "default_home",
    "install",
    "read_sources",
    "read_text_file",
]

if TYPE_CHECKING:
    from cmesh.registry.bootstrap import bootstrap_manifest, install
    from cmesh.registry.home import Home, default_home
    from cmesh.registry.registry import Change, ClusterRegistry, check
    from cmesh.registry.sources import read_sources, read_text_file


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
