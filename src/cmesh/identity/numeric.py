"""Numeric identities: reserved ids and the per-cluster allocation ranges (ref §2.9, §3.1).

Mirrors ``pkg/identity/numericidentity.go``.  Non-CIDR identities fit in 24 bits; the cluster id
occupies the top ``log2(max_connected_clusters + 1)`` of those bits, so each cluster allocates
in its own disjoint range and remote identities can be used as they are.

| max-connected-clusters | cluster bits | shift | ids per cluster |
|------------------------|--------------|-------|-----------------|
| 255 (default)          | 8            | 16    | 65535           |
| 511                    | 9            | 15    | 32767           |
"""

from __future__ import annotations

import enum

IDENTITY_BITS = 24
LOCAL_IDENTITY_FLAG = 1 << 24  # scope 0x01: node-local CIDR/FQDN identities
MIN_LOCAL_IDENTITY = LOCAL_IDENTITY_FLAG + 1  # 16777217
MAX_LOCAL_IDENTITY = (2 << 24) - 1
REMOTE_NODE_SCOPE = 2 << 24  # 0x02000000
MIN_USER_IDENTITY = 256


class ReservedIdentity(enum.IntEnum):
    """Reserved identities with Cilium's numbers (ref §2.9)."""

    UNKNOWN = 0
    HOST = 1
    WORLD = 2
    UNMANAGED = 3
    HEALTH = 4
    INIT = 5
    REMOTE_NODE = 6
    KUBE_APISERVER = 7
    INGRESS = 8
    WORLD_IPV4 = 9
    WORLD_IPV6 = 10
    OVERLAY_TO_ENCRYPT = 11

    @property
    def label_name(self) -> str:
        """The ``reserved:<name>`` label key: ``remote-node``, ``kube-apiserver``, …"""
        return self.name.lower().replace("_", "-")


RESERVED_BY_NAME = {r.label_name: r for r in ReservedIdentity}


def cluster_shift(max_connected_clusters: int = 255) -> int:
    """``24 - log2(max+1)``: 16 for 255 clusters, 15 for 511."""
    if max_connected_clusters not in (255, 511):
        raise ValueError("max-connected-clusters must be 255 or 511")
    return IDENTITY_BITS - (max_connected_clusters + 1).bit_length() + 1


def allocation_range(cluster_id: int, max_connected_clusters: int = 255) -> tuple[int, int]:
    """Inclusive range of identities cluster ``cluster_id`` allocates (``GetMinimal/Maximum…``).

    >>> allocation_range(0), allocation_range(1), allocation_range(2)
    ((256, 65535), (65536, 131071), (131072, 196607))
    >>> allocation_range(1, 511)
    (32768, 65535)
    """
    shift = cluster_shift(max_connected_clusters)
    if cluster_id == 0:
        return MIN_USER_IDENTITY, (1 << shift) - 1
    return cluster_id << shift, ((cluster_id + 1) << shift) - 1


def cluster_of(identity: int, max_connected_clusters: int = 255) -> int:
    """The cluster id encoded in a global identity (``ClusterID(id)``); 0 for local scopes."""
    if identity >= LOCAL_IDENTITY_FLAG:
        return 0
    return (identity >> cluster_shift(max_connected_clusters)) & max_connected_clusters


def is_reserved(identity: int) -> bool:
    return 0 < identity < MIN_USER_IDENTITY


def is_local(identity: int) -> bool:
    """A node-local CIDR/FQDN identity (scope 0x01)."""
    return MIN_LOCAL_IDENTITY <= identity <= MAX_LOCAL_IDENTITY


def describe(identity: int) -> str:
    """How Hubble prints an identity: ``world`` for reserved ones, ``ID:65537`` otherwise."""
    try:
        return ReservedIdentity(identity).label_name
    except ValueError:
        return f"ID:{identity}"
