"""The store-backed API server of cmesh: homes, contexts, clusters and their objects."""

from cmesh.registry.home import Home, default_home
from cmesh.registry.install import bootstrap_manifest, install
from cmesh.registry.registry import Change, ClusterRegistry, check
from cmesh.registry.sources import read_sources

__all__ = [
    "Change",
    "ClusterRegistry",
    "Home",
    "bootstrap_manifest",
    "check",
    "default_home",
    "install",
    "read_sources",
]
