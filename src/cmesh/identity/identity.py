"""Identity values and the pure allocator that gives label sets numbers (ref §2.9, §3.1).

Endpoints with the same identity-relevant labels share one numeric identity.  The allocator
takes the allocations already made (loaded from the store by the caller) and returns the new
ones; it never touches the store itself.  New ids are the lowest free ids of the cluster's
range, so a fresh home allocates the same numbers every time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cmesh.identity.numeric import (
    MIN_LOCAL_IDENTITY,
    ReservedIdentity,
    allocation_range,
)
from cmesh.labels import Label, Labels
from cmesh.labels.label import SOURCE_RESERVED


@dataclass(frozen=True, slots=True)
class Identity:
    """A numeric identity and the labels it stands for."""

    id: int
    labels: Labels

    @property
    def reserved(self) -> bool:
        return 0 < self.id < 256


def reserved_identities(cluster: str = "") -> dict[int, Identity]:
    """The reserved identities with their labels (ref §2.9).

    ``world`` also carries ``reserved:world-ipv4``/``-ipv6`` selectors' labels only in dual
    stack; cmesh is single-stack IPv4, so world is identity 2 with ``reserved:world``.
    """
    out: dict[int, Identity] = {}
    for r in ReservedIdentity:
        if r is ReservedIdentity.UNKNOWN:
            continue
        out[int(r)] = Identity(int(r), Labels([Label(SOURCE_RESERVED, r.label_name)]))
    # The apiserver runs on a control-plane node: identity 7 carries both labels (ref §2.9).
    k = int(ReservedIdentity.KUBE_APISERVER)
    out[k] = Identity(
        k, Labels([Label(SOURCE_RESERVED, "kube-apiserver"), Label(SOURCE_RESERVED, "remote-node")])
    )
    return out


class AllocationError(Exception):
    """The cluster's identity range is exhausted."""


def allocate(
    wanted: Iterable[Labels],
    existing: Mapping[Labels, int],
    *,
    cluster_id: int,
    max_connected_clusters: int = 255,
) -> dict[Labels, int]:
    """Numbers for every label set in ``wanted`` not already in ``existing``.

    Returns only the new allocations.  Deterministic: new label sets are numbered in sorted
    order of their kvstore form, from the lowest free id of the cluster's range.
    """
    lo, hi = allocation_range(cluster_id, max_connected_clusters)
    used = set(existing.values())
    new: dict[Labels, int] = {}
    nxt = lo
    for labels in sorted(set(wanted) - set(existing), key=str):
        while nxt in used and nxt <= hi:
            nxt += 1
        if nxt > hi:
            raise AllocationError(
                f"identity range {lo}-{hi} of cluster id {cluster_id} is exhausted"
            )
        new[labels] = nxt
        used.add(nxt)
    return new


def allocate_local(wanted: Iterable[Labels], existing: Mapping[Labels, int]) -> dict[Labels, int]:
    """Node-local (CIDR/FQDN) identities from 16777217 up (ref §3.1), same rules as above."""
    used = set(existing.values())
    new: dict[Labels, int] = {}
    nxt = MIN_LOCAL_IDENTITY
    for labels in sorted(set(wanted) - set(existing), key=str):
        while nxt in used:
            nxt += 1
        new[labels] = nxt
        used.add(nxt)
    return new
