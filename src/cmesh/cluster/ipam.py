"""Address management: node pod CIDRs, pod IPs, node IPs and ClusterIPs (cluster-pool style).

Each node gets a /24 of the cluster's pod CIDR (ref §3.2: PodCIDRs never overlap across
clusters, so addresses are unique in the mesh); a pod gets the lowest free address of its
node's /24, skipping the network and broadcast addresses and ``.1`` (the node's ``cilium_host``
router address).  ClusterIPs come from the service CIDR, skipping ``.0`` and ``.1`` (the
``kubernetes`` Service).  Pure: the caller passes what is taken.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from cmesh.cluster.config import NODE_MASK
from cmesh.errors import InvalidCluster

_HINT = (
    "each node hands out the addresses of its own /24: spread the pods over more nodes "
    "(`cmesh install --nodes N`, or Node objects in the manifests), or give the cluster a "
    "larger pod CIDR"
)


class Exhausted(InvalidCluster):
    """No address is left in the range (nothing was applied)."""


def free_subnet(pool: str, taken: Iterable[str], prefix: int = NODE_MASK) -> str:
    net = ipaddress.ip_network(pool)
    used = [ipaddress.ip_network(t) for t in taken if t]
    for sub in net.subnets(new_prefix=max(prefix, net.prefixlen)):
        if not any(sub.overlaps(u) for u in used):
            return str(sub)
    raise Exhausted(f"no free /{prefix} left in {pool}", hint=_HINT)


def free_address(pool: str, taken: set[str], *, skip_first: int = 1) -> str:
    """Lowest free host address of ``pool`` after its first ``skip_first`` hosts."""
    net = ipaddress.ip_network(pool)
    for i, host in enumerate(net.hosts()):
        if i < skip_first:
            continue
        text = str(host)
        if text not in taken:
            return text
    raise Exhausted(f"no free address left in {pool}", hint=_HINT)


def contains(cidr: str, ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip) in ipaddress.ip_network(cidr)
    except ValueError:
        return False


def valid_ip(ip: str) -> bool:
    try:
        ipaddress.IPv4Address(ip)
    except ValueError:
        return False
    return True
