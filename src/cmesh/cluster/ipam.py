"""Address management: node pod CIDRs, pod IPs, node IPs and ClusterIPs (cluster-pool style).

Each node gets a /24 of the cluster's pod CIDR (ref §3.2: PodCIDRs never overlap across
clusters, so addresses are unique in the mesh); a pod gets the lowest free address of its
node's /24, skipping the network and broadcast addresses and ``.1`` (the node's ``cilium_host``
router address).  ClusterIPs come from the service CIDR, skipping ``.0`` and ``.1`` (the
``kubernetes`` Service).  Pure: the caller passes what is taken.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Container, Iterable, Iterator

from cmesh.cluster.config import NODE_MASK
from cmesh.errors import InvalidCluster

_HINT = (
    "each node hands out the addresses of its own /24: spread the pods over more nodes "
    "(`cmesh install --nodes N`, or Node objects in the manifests), or give the cluster a "
    "larger pod CIDR"
)


class Exhausted(InvalidCluster):
    """No address is left in the range (nothing was applied)."""


def free_subnets(pool: str, taken: Iterable[str], prefix: int = NODE_MASK) -> Iterator[str]:
    """The /``prefix`` subnets of ``pool`` that overlap nothing ``taken``, lowest first; raises
    :class:`Exhausted` past the last.  ``taken`` is read once: the caller takes each subnet as
    it is handed out, so a range is walked once, not once per node."""
    net = ipaddress.ip_network(pool)
    spans = sorted(
        (int(u.network_address), int(u.broadcast_address))
        for u in (ipaddress.ip_network(t) for t in taken if t)
        if u.version == net.version
    )
    merged: list[list[int]] = []  # disjoint, sorted
    for lo, hi in spans:
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    i = 0
    for sub in net.subnets(new_prefix=max(prefix, net.prefixlen)):
        lo, hi = int(sub.network_address), int(sub.broadcast_address)
        while i < len(merged) and merged[i][1] < lo:
            i += 1
        if i < len(merged) and merged[i][0] <= hi:
            continue
        yield str(sub)
    raise Exhausted(f"no free /{prefix} left in {pool}", hint=_HINT)


def free_subnet(pool: str, taken: Iterable[str], prefix: int = NODE_MASK) -> str:
    """The lowest /``prefix`` of ``pool`` that overlaps nothing ``taken``."""
    return next(free_subnets(pool, taken, prefix))


def free_addresses(pool: str, taken: Container[str], *, skip_first: int = 1) -> Iterator[str]:
    """The host addresses of ``pool`` after its first ``skip_first`` not in ``taken``, lowest
    first; raises :class:`Exhausted` past the last.  ``taken`` is read as the walk goes on, so
    what the caller takes meanwhile is skipped and each range is walked once."""
    net = ipaddress.ip_network(pool)
    for i, host in enumerate(net.hosts()):
        if i < skip_first:
            continue
        text = str(host)
        if text not in taken:
            yield text
    raise Exhausted(f"no free address left in {pool}", hint=_HINT)


def free_address(pool: str, taken: Container[str], *, skip_first: int = 1) -> str:
    """Lowest free host address of ``pool`` after its first ``skip_first`` hosts."""
    return next(free_addresses(pool, taken, skip_first=skip_first))


#: A parsed network: (address bits, 32 or 128; the network as an integer; the prefix length).
Net = tuple[int, int, int]


def parse_net(cidr: str) -> Net | None:
    """``10.1.0.0/16`` parsed once for :func:`within`; ``None`` if it is no network."""
    try:
        net = ipaddress.ip_network(cidr)
    except ValueError:
        return None
    return (net.max_prefixlen, int(net.network_address), net.prefixlen)


def within(ip: str, net: Net | None) -> bool:
    """Is address ``ip`` in the network ``net`` (of :func:`parse_net`)?"""
    if net is None:
        return False
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    bits, value, length = net
    return addr.max_prefixlen == bits and (int(addr) ^ value) >> (bits - length) == 0


def valid_ip(ip: str) -> bool:
    try:
        ipaddress.IPv4Address(ip)
    except ValueError:
        return False
    return True
