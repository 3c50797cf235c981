"""Numeric security identities: reserved ids, cluster ranges and allocation (pure core)."""

from cmesh.identity.identity import (
    AllocationError,
    Identity,
    allocate,
    allocate_local,
    reserved_identities,
)
from cmesh.identity.numeric import (
    MIN_LOCAL_IDENTITY,
    MIN_USER_IDENTITY,
    RESERVED_BY_NAME,
    ReservedIdentity,
    allocation_range,
    cluster_of,
    cluster_shift,
    describe,
    is_local,
    is_reserved,
)

__all__ = [
    "MIN_LOCAL_IDENTITY",
    "MIN_USER_IDENTITY",
    "RESERVED_BY_NAME",
    "AllocationError",
    "Identity",
    "ReservedIdentity",
    "allocate",
    "allocate_local",
    "allocation_range",
    "cluster_of",
    "cluster_shift",
    "describe",
    "is_local",
    "is_reserved",
    "reserved_identities",
]
