"""ClusterMesh: what clusters export, what they import, connections and status (ref §3).

Names are imported on first use (PEP 562) so that commands load only what they need."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cmesh._lazy import lazy_exports

_EXPORTS: dict[str, tuple[str, str]] = {
    "MeshManager": ("cmesh.mesh.manager", "MeshManager"),
    "RemoteData": ("cmesh.mesh.state", "RemoteData"),
    "RemoteStatus": ("cmesh.mesh.remote", "RemoteStatus"),
    "SERVICE_TYPES": ("cmesh.mesh.lifecycle", "SERVICE_TYPES"),
    "apply_imports": ("cmesh.mesh.state", "apply_imports"),
    "check_pair": ("cmesh.mesh.lifecycle", "check_pair"),
    "connect": ("cmesh.mesh.lifecycle", "connect"),
    "disable": ("cmesh.mesh.lifecycle", "disable"),
    "disconnect": ("cmesh.mesh.lifecycle", "disconnect"),
    "enable": ("cmesh.mesh.lifecycle", "enable"),
    "export_data": ("cmesh.mesh.state", "export_data"),
    "export_kvs": ("cmesh.mesh.state", "export_kvs"),
    "parse_kvs": ("cmesh.mesh.state", "parse_kvs"),
}

__all__ = [
    "SERVICE_TYPES",
    "MeshManager",
    "RemoteData",
    "RemoteStatus",
    "apply_imports",
    "check_pair",
    "connect",
    "disable",
    "disconnect",
    "enable",
    "export_data",
    "export_kvs",
    "parse_kvs",
]

if TYPE_CHECKING:
    from cmesh.mesh.lifecycle import SERVICE_TYPES, check_pair, connect, disable, disconnect, enable
    from cmesh.mesh.manager import MeshManager
    from cmesh.mesh.remote import RemoteStatus
    from cmesh.mesh.state import RemoteData, apply_imports, export_data, export_kvs, parse_kvs


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
