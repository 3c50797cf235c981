"""Services: load-balancing tables and global services across a mesh (pure core, ref §3.7)."""

from cmesh.services.annotations import Affinity, GlobalSettings, global_settings
from cmesh.services.lb import (
    Backend,
    ClusterService,
    LBService,
    PodRef,
    ServicePort,
    build_service,
    local_backends,
)

__all__ = [
    "Affinity",
    "Backend",
    "ClusterService",
    "GlobalSettings",
    "LBService",
    "PodRef",
    "ServicePort",
    "build_service",
    "global_settings",
    "local_backends",
]
