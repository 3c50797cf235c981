"""A cluster as its agent sees it: endpoints with identities, and its policy engine.

:func:`build_view` assembles a :class:`ClusterView` from the cluster's stored objects (pure: the
caller reads the store).  Remote clusters' identities are added by the mesh layer with
:meth:`ClusterView.add_remote_identity`; each cluster enforces only its own policies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cmesh.cluster import (
    IDENTITY_KIND,
    ClusterConfig,
    Inventory,
    NodeInfo,
    ObjKey,
    PodInfo,
    endpoint_labels,
    identity_labels,
)
from cmesh.identity import reserved_identities
from cmesh.labels import POLICY_LABEL_CLUSTER, Labels
from cmesh.policy.engine import NamedPorts, NamedPortSpec, PolicyEngine, named_ports_key
from cmesh.policy.lookup import Settings
from cmesh.policy.selectorcache import IdentityInfo
from cmesh.services import (
    Backend,
    ClusterService,
    LBService,
    PodRef,
    ServicePort,
    build_service,
    local_backends,
)

if TYPE_CHECKING:
    from cmesh.policy.importer import ImportContext


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A pod as the datapath and Hubble see it."""

    cluster: str
    namespace: str
    name: str
    ip: str
    node: str
    identity: int
    labels: Labels
    pod: PodInfo
    #: The pod's named container ports as ``(name, protocol, port)``, sorted: what its ingress
    #: named ports resolve against (ref §1.8), the key of its policy map.  Made once: every
    #: flow's verdict reads it.
    named_ports: NamedPorts = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ports = named_ports_key((p.name, p.protocol, p.port) for p in self.pod.ports if p.name)
        object.__setattr__(self, "named_ports", ports)

    @property
    def ref(self) -> str:
        return f"{self.cluster}/{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class PolicySource:
    """Where an imported policy object came from (kept instead of the parsed object, so a
    view can be cached without the model layer)."""

    kind: str
    namespace: str
    name: str
    source: str


@dataclass
class ClusterView:
    cfg: ClusterConfig
    inventory: Inventory
    engine: PolicyEngine
    endpoints: dict[tuple[str, str], Endpoint] = field(default_factory=dict)
    by_ip: dict[str, Endpoint] = field(default_factory=dict)
    policies: dict[ObjKey, PolicySource] = field(default_factory=dict)
    remote_endpoints: dict[str, Endpoint] = field(default_factory=dict)
    remote_nodes: dict[str, NodeInfo] = field(default_factory=dict)
    remote_node_cluster: dict[str, str] = field(default_factory=dict)
    lb: dict[tuple[str, str], LBService] = field(default_factory=dict)
    remote_services: tuple[ClusterService, ...] = ()

    @property
    def name(self) -> str:
        return self.cfg.name

    def add_remote_identity(
        self, ident: int, labels: Labels, named_ports: Sequence[NamedPortSpec] = ()
    ) -> None:
        """A remote cluster's identity, with the named ports of its endpoints there: egress
        named ports resolve against them too, as Cilium's ipcache carries remote endpoints'
        NamedPorts (pkg/ipcache/kvstore.go, ref §1.8)."""
        cluster_label = labels.get(POLICY_LABEL_CLUSTER)
        self.engine.upsert_identity(
            IdentityInfo(ident, labels, cluster_label.value if cluster_label else ""),
            named_ports=named_ports,
        )

    def learn_fqdn(self, name: str, ips: Iterable[str]) -> None:
        self.engine.learn_fqdn(name, ips)

    def add_remote_endpoint(self, ep: Endpoint) -> None:
        self.remote_endpoints[ep.ip] = ep

    def endpoint_for_ip(self, ip: str) -> Endpoint | None:
        return self.by_ip.get(ip) or self.remote_endpoints.get(ip)

    def pod_refs(self) -> list[PodRef]:
        return [
            PodRef(
                self.name,
                ep.namespace,
                ep.name,
                ep.ip,
                ep.node,
                ep.pod.labels,
                {(p.name, p.protocol): p.port for p in ep.pod.ports if p.name},
            )
            for ep in self.endpoints.values()
        ]

    def rebuild_services(self, remote: list[ClusterService] | None = None) -> None:
        """The LB table: local backends, plus shared remote ones for global services (ref §3.7)."""
        if remote is not None:
            self.remote_services = tuple(remote)
        pods = self.pod_refs()
        self.lb = {}
        for key, svc in sorted(self.inventory.services.items()):
            if svc.type == "ExternalName":
                continue
            ports = tuple(ServicePort(p.name, p.port, p.protocol, p.target_port) for p in svc.ports)
            local = local_backends(ports, svc.selector, svc.namespace, pods)
            if key == ("default", "kubernetes") and not svc.selector:
                local = {p.name: apiserver_backends(self, p) for p in ports}
            self.lb[key] = build_service(
                self.name,
                svc.namespace,
                svc.name,
                svc.type,
                svc.cluster_ip,
                ports,
                svc.annotations,
                local,
                self.remote_services,
            )

    def cluster_service(self, lb: LBService) -> ClusterService:
        """How this cluster exports a global service (only its own backends)."""
        frontends = (
            {lb.cluster_ip: {p.name: (p.port, p.protocol) for p in lb.ports}}
            if has_cluster_ip(lb.cluster_ip)
            else {}
        )
        backends: dict[str, dict[str, tuple[int, str]]] = {}
        for pname, bes in lb.backends.items():
            for b in bes:
                if b.cluster == self.name:
                    backends.setdefault(b.ip, {})[pname] = (b.port, b.protocol)
        svc = self.inventory.services[(lb.namespace, lb.name)]
        return ClusterService(
            self.name,
            self.cfg.id,
            lb.namespace,
            lb.name,
            frontends,
            backends,
            dict(svc.labels),
            dict(svc.selector or {}),
            lb.shared,
        )


def has_cluster_ip(cluster_ip: str) -> bool:
    """Whether a Service's ``clusterIP`` is an address: not unset, and not ``None`` (a
    headless Service, whose name resolves to its backends' addresses instead).

    >>> has_cluster_ip("10.96.0.10"), has_cluster_ip("None"), has_cluster_ip("")
    (True, False, False)
    """
    return bool(cluster_ip) and cluster_ip != "None"


def runs_apiserver(node_name: str) -> bool:
    """Whether the kube-apiserver runs on the node: the cluster's control-plane nodes (kind's
    layout, ``<cluster>-control-plane``).  The cluster's own ipcache gives their addresses
    ``reserved:kube-apiserver`` (ref §1.4, §2.9).

    >>> runs_apiserver("c1-control-plane"), runs_apiserver("c1-worker")
    (True, False)
    """
    return node_name.endswith("control-plane")


def apiserver_nodes(view: ClusterView) -> list[NodeInfo]:
    """Where the kube-apiserver runs (:func:`runs_apiserver`), by name."""
    return [
        n
        for n in sorted(view.inventory.nodes.values(), key=lambda n: n.name)
        if runs_apiserver(n.name) and n.ip
    ]


def apiserver_backends(view: ClusterView, port: ServicePort) -> tuple[Backend, ...]:
    target = port.target_port if isinstance(port.target_port, int) else 6443
    return tuple(
        Backend(n.ip, target, port.protocol, view.name, node=n.name) for n in apiserver_nodes(view)
    )


def settings_of(cfg: ClusterConfig) -> Settings:
    return Settings(
        enforcement=cfg.policy_enforcement.value,
        audit_mode=cfg.policy_audit_mode,
        allow_localhost=cfg.allow_localhost,
    )


def import_context(cfg: ClusterConfig, inv: Inventory) -> ImportContext:
    from cmesh.policy.importer import CIDRGroupInfo, ImportContext, ServiceRefInfo

    services = {
        k: ServiceRefInfo(s.namespace, s.name, s.selector, s.labels)
        for k, s in inv.services.items()
    }
    groups = {}
    for (kind, _ns, name), obj in inv.objects.items():
        if kind == "CiliumCIDRGroup":
            meta = obj.get("metadata") or {}
            groups[name] = CIDRGroupInfo(
                name,
                dict(meta.get("labels") or {}),
                tuple((obj.get("spec") or {}).get("externalCIDRs") or ()),
            )
    return ImportContext(cfg.name, cfg.policy_default_local_cluster, services, groups)


def build_view(
    cfg: ClusterConfig,
    objects: Mapping[ObjKey, Mapping[str, Any]],
    sources: Mapping[ObjKey, str] | None = None,
    lines: Mapping[ObjKey, Mapping[str, int]] | None = None,
    typed: Mapping[ObjKey, Any] | None = None,
) -> ClusterView:
    """Identities first, then policies: selectors are then evaluated through the label index.

    ``typed``: policy objects already loaded (``cmesh.model.Resource``, as an offline analysis
    has them); one whose data is the stored object's is used as it is instead of being loaded
    again from the stored copy."""
    inv = Inventory.build(objects)
    engine = PolicyEngine(cfg.name, settings_of(cfg))
    view = ClusterView(cfg, inv, engine)
    for ident, info in reserved_identities().items():
        engine.upsert_identity(IdentityInfo(ident, info.labels))
    by_labels: dict[Labels, int] = {}
    for (kind, _ns, name), obj in objects.items():
        if kind == IDENTITY_KIND:
            by_labels[identity_labels(obj)] = int(name)
    named: dict[int, set[tuple[tuple[str, str, int], ...]]] = {}
    # Pods of one workload share their labels: derive them once per distinct set (ref §1.13).
    derived: dict[tuple[str, tuple[tuple[str, str], ...], str], Labels] = {}
    for key, pod in sorted(inv.pods.items()):
        if pod.host_network or not pod.ip:
            continue
        lk = (pod.namespace, tuple(sorted(pod.labels.items())), pod.service_account)
        labels = derived.get(lk)
        if labels is None:
            labels = endpoint_labels(pod, inv.namespaces.get(pod.namespace, {}), cfg.name)
            derived[lk] = labels
        ident = by_labels.get(labels)
        if ident is None:
            continue
        ep = Endpoint(cfg.name, pod.namespace, pod.name, pod.ip, pod.node, ident, labels, pod)
        view.endpoints[key] = ep
        view.by_ip[pod.ip] = ep
        named.setdefault(ident, set()).add(ep.named_ports)
    for labels, ident in sorted(by_labels.items(), key=lambda kv: kv[1]):
        variants = sorted(named.get(ident, ()))
        engine.upsert_identity(
            IdentityInfo(ident, labels, cfg.name),
            local=True,
            named_ports=sorted({p for v in variants for p in v}),
            endpoint_ports=variants if len(variants) > 1 else None,
        )
    import_policies(view, objects, sources or {}, lines or {}, typed or {})
    view.rebuild_services()
    return view


def import_policies(
    view: ClusterView,
    objects: Mapping[ObjKey, Mapping[str, Any]],
    sources: Mapping[ObjKey, str],
    lines: Mapping[ObjKey, Mapping[str, int]],
    typed: Mapping[ObjKey, Any] | None = None,
) -> None:
    from cmesh.model import POLICY_KINDS, from_stored
    from cmesh.policy.importer import import_resource

    ctx = import_context(view.cfg, view.inventory)
    typed = typed or {}
    for key in sorted(k for k in objects if k[0] in POLICY_KINDS):
        res = typed.get(key)
        if res is None or res.raw != objects[key]:
            res = from_stored(dict(objects[key]), sources.get(key, ""), dict(lines.get(key, {})))
        view.policies[key] = PolicySource(res.kind, res.namespace, res.name, str(res.source))
        view.engine.set_policy(key, import_resource(res, ctx))
