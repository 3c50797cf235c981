"""A cluster's configuration and the rules Cilium puts on it (ref §3.2).

A :class:`ClusterConfig` is what ``cmesh install`` records for a context: name and id, address
ranges, and the agent options that change policy semantics.  :func:`validate` checks one config
against the other clusters of the home, as Cilium and ``cilium clustermesh connect`` would.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from cmesh.errors import InvalidCluster

NAME_RE = re.compile(r"^([a-z0-9][-a-z0-9]*)?[a-z0-9]$")
MAX_NAME_LEN = 32
DEFAULT_SERVICE_CIDR = "10.96.0.0/16"
NODE_CIDR_POOL = ipaddress.ip_network("172.18.0.0/16")
NODE_MASK = 24  # cluster-pool hands each node a /24


class PolicyEnforcement(enum.Enum):
    """Agent ``enable-policy`` (ref §2.1)."""

    DEFAULT = "default"
    ALWAYS = "always"
    NEVER = "never"


class Ipam(enum.Enum):
    KUBERNETES = "kubernetes"
    CLUSTER_POOL = "cluster-pool"


@dataclass(frozen=True, slots=True)
class ClusterConfig:
    """Everything ``install`` and ``config set`` decide about one cluster."""

    context: str
    name: str
    id: int
    pod_cidr: str
    service_cidr: str = DEFAULT_SERVICE_CIDR
    node_cidr: str = ""
    ipam: Ipam = Ipam.CLUSTER_POOL
    max_connected_clusters: int = 255
    nodes: int = 2
    policy_enforcement: PolicyEnforcement = PolicyEnforcement.DEFAULT
    policy_default_local_cluster: bool = True
    policy_audit_mode: bool = False
    allow_localhost: str = "auto"
    #: ClusterMesh (ref §3.4): enabled by ``clustermesh enable``; where this cluster's
    #: clustermesh-apiserver keeps its state ("" = the home's store); how it is exposed;
    #: how long remote data survives an unreachable remote (0 = forever, ref §3.5).
    clustermesh_enabled: bool = False
    clustermesh_kvstore: str = ""
    clustermesh_service_type: str = ""
    clustermesh_cache_ttl: float = 0.0
    #: SPIFFE trust domain for mutual auth (ref §1.11); "" = this cluster's own, so
    #: authentication never succeeds across clusters unless two clusters share one.
    auth_trust_domain: str = ""
    #: DNS proxy answer for a refused query: REFUSED (default) or NXDOMAIN ("nameError").
    dns_reject_response: str = "REFUSED"
    #: endpoints (``namespace/pod``) with ``PolicyAuditMode=Enabled`` (``cmesh endpoint
    #: config``, as ``cilium endpoint config``): agent-local state, like the options above.
    audit_endpoints: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ipam"] = self.ipam.value
        d["policy_enforcement"] = self.policy_enforcement.value
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClusterConfig:
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in data.items() if k in known}
        kw["extra"] = {**data.get("extra", {}), **{k: v for k, v in data.items() if k not in known}}
        kw["audit_endpoints"] = tuple(kw.get("audit_endpoints", ()))
        kw["ipam"] = Ipam(kw.get("ipam", Ipam.CLUSTER_POOL.value))
        kw["policy_enforcement"] = PolicyEnforcement(
            kw.get("policy_enforcement", PolicyEnforcement.DEFAULT.value)
        )
        return cls(**kw)

    def with_options(self, **changes: Any) -> ClusterConfig:
        return replace(self, **changes)

    @property
    def meshable(self) -> bool:
        return self.id != 0


def network(text: str, what: str) -> ipaddress.IPv4Network:
    """Parse a CIDR strictly (host bits must be zero), with an error that says which option."""
    try:
        net = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        raise InvalidCluster(
            f"invalid {what} {text!r}: {exc}",
            hint="write a network address with a prefix length, e.g. 10.1.0.0/16",
        ) from None
    if not isinstance(net, ipaddress.IPv4Network):
        raise InvalidCluster(
            f"{what} {text} is IPv6; cmesh models IPv4 clusters", hint="use an IPv4 CIDR"
        )
    return net


def validate_name_and_id(name: str, cluster_id: int, max_connected_clusters: int) -> None:
    """Cluster name and id rules of ``pkg/clustermesh/types`` (ref §3.2)."""
    if max_connected_clusters not in (255, 511):
        raise InvalidCluster(
            f"max-connected-clusters must be 255 or 511, got {max_connected_clusters}",
            hint="--set clustermesh.maxConnectedClusters=511 extends the range; 255 is the default",
        )
    if len(name) > MAX_NAME_LEN or not NAME_RE.match(name):
        raise InvalidCluster(
            f"invalid cluster name {name!r}: at most {MAX_NAME_LEN} characters of lower-case "
            "letters, digits and '-', starting and ending with a letter or digit",
            hint="e.g. --cluster-name cluster-1",
        )
    if not 0 <= cluster_id <= max_connected_clusters:
        extra = (
            " (ids up to 511 need --set clustermesh.maxConnectedClusters=511)"
            if max_connected_clusters == 255 and cluster_id <= 511
            else ""
        )
        raise InvalidCluster(
            f"cluster id {cluster_id} is out of range 0-{max_connected_clusters}{extra}",
            hint="use 1-255 for a cluster that joins a mesh; 0 is a standalone cluster",
        )
    if name == "default" and cluster_id != 0:
        raise InvalidCluster(
            "a cluster with a non-zero id cannot keep the name 'default'",
            hint="give the cluster a unique name, e.g. --cluster-name cluster-1",
        )


def default_pod_cidr(cluster_id: int, taken: Iterable[str]) -> str:
    """``10.<id>.0.0/16`` when free, else the next free ``10.x.0.0/16`` (skipping 10.96)."""
    nets = [ipaddress.ip_network(t) for t in taken]
    service = ipaddress.ip_network(DEFAULT_SERVICE_CIDR)
    for i in range(256):
        x = (cluster_id + i) % 256
        cand = ipaddress.ip_network(f"10.{x}.0.0/16")
        if cand.overlaps(service) or any(cand.overlaps(n) for n in nets):
            continue
        return str(cand)
    raise InvalidCluster("no free 10.x.0.0/16 pod CIDR is left", hint="give --pod-cidr explicitly")


def default_node_cidr(taken: Iterable[str]) -> str:
    """A /24 of 172.18.0.0/16 (kind's node network) for the cluster's node addresses."""
    used = {ipaddress.ip_network(t) for t in taken if t}
    for sub in NODE_CIDR_POOL.subnets(new_prefix=24):
        if not any(sub.overlaps(u) for u in used):
            return str(sub)
    raise InvalidCluster("no free node subnet is left in 172.18.0.0/16")


def validate(cfg: ClusterConfig, others: Iterable[ClusterConfig]) -> None:
    """Raise :class:`InvalidCluster` if ``cfg`` breaks a rule alone or next to ``others``."""
    validate_name_and_id(cfg.name, cfg.id, cfg.max_connected_clusters)
    pod = network(cfg.pod_cidr, "pod CIDR")
    svc = network(cfg.service_cidr, "service CIDR")
    if pod.prefixlen > NODE_MASK:
        raise InvalidCluster(
            f"pod CIDR {pod} is smaller than one node's /{NODE_MASK}",
            hint="use a /24 or larger, e.g. 10.1.0.0/16",
        )
    if pod.overlaps(svc):
        raise InvalidCluster(
            f"pod CIDR {pod} overlaps the service CIDR {svc}",
            hint="choose disjoint ranges for pods and services",
        )
    for o in others:
        if o.context == cfg.context:
            continue
        if o.name == cfg.name:
            raise InvalidCluster(
                f"cluster name {cfg.name!r} is already used by context {o.context!r}",
                hint="cluster names must be unique across the mesh (ref §3.2)",
            )
        if cfg.id != 0 and o.id == cfg.id:
            raise InvalidCluster(
                f"cluster id {cfg.id} is already used by cluster {o.name!r}",
                hint="cluster ids must be unique across the mesh (ref §3.2); pick another id",
            )
        if pod.overlaps(ipaddress.ip_network(o.pod_cidr)):
            raise InvalidCluster(
                f"pod CIDR {pod} overlaps pod CIDR {o.pod_cidr} of cluster {o.name!r}",
                hint="PodCIDRs must be non-overlapping across all clusters (ref §3.2); "
                "choose another --pod-cidr",
            )
