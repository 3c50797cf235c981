"""A typed, read-only view of one cluster's stored objects: namespaces, nodes, pods, services.

Built from the raw Kubernetes-shaped dicts that ``cmesh apply`` stores, it is what the policy
engine, the datapath and the CLI read.  Pure: objects in, views out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

ObjKey = tuple[str, str, str]  # (kind, namespace, name); namespace "" when cluster-scoped

#: Annotation on pods cmesh created from a workload (so re-applying the workload replaces them).
GENERATED_BY = "cmesh.io/generated-by"
#: The workload (``Kind/name``) a generated pod belongs to.
WORKLOAD_ANNOTATION = "cmesh.io/workload"


def meta(obj: Mapping[str, Any]) -> dict[str, Any]:
    return obj.get("metadata") or {}


@dataclass(frozen=True, slots=True)
class NamedPort:
    name: str
    port: int
    protocol: str


@dataclass(frozen=True, slots=True)
class NodeInfo:
    name: str
    ip: str
    pod_cidr: str
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PodInfo:
    namespace: str
    name: str
    ip: str
    node: str
    labels: Mapping[str, str]
    service_account: str
    host_network: bool
    ports: tuple[NamedPort, ...]
    workload_kind: str = ""
    workload_name: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)

    def named_port(self, name: str, protocol: str | None = None) -> NamedPort | None:
        for p in self.ports:
            if p.name == name and (protocol is None or p.protocol == protocol):
                return p
        return None


@dataclass(frozen=True, slots=True)
class ServicePortInfo:
    name: str
    port: int
    protocol: str
    target_port: int | str


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    namespace: str
    name: str
    type: str
    cluster_ip: str
    selector: Mapping[str, str] | None
    ports: tuple[ServicePortInfo, ...]
    annotations: Mapping[str, str]
    labels: Mapping[str, str]

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)


def workload_of(m: Mapping[str, Any]) -> tuple[str, str]:
    """The workload that owns a pod, as Hubble names it (``Deployment``/``payment``).

    Pods cmesh expanded carry it in an annotation; real pods are followed through their
    controller reference, a ReplicaSet named ``<deployment>-<pod-template-hash>`` standing for
    its Deployment (as Cilium's workload lookup does).
    """
    ann = m.get("annotations") or {}
    if WORKLOAD_ANNOTATION in ann:
        kind, _, name = ann[WORKLOAD_ANNOTATION].partition("/")
        return kind, name
    refs = m.get("ownerReferences") or []
    ref = next((r for r in refs if r.get("controller")), refs[0] if refs else None)
    if not ref:
        return "", ""
    kind, name = ref.get("kind", ""), ref.get("name", "")
    h = (m.get("labels") or {}).get("pod-template-hash", "")
    if kind == "ReplicaSet" and h and name.endswith("-" + h):
        return "Deployment", name[: -len(h) - 1]
    if kind == "Job" and (m.get("labels") or {}).get("cmesh.io/cronjob"):
        return "CronJob", m["labels"]["cmesh.io/cronjob"]
    return kind, name


def pod_info(obj: Mapping[str, Any]) -> PodInfo:
    m = meta(obj)
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    ports: list[NamedPort] = []
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        for p in c.get("ports") or []:
            if p.get("containerPort") is None:
                continue
            ports.append(
                NamedPort(p.get("name", ""), int(p["containerPort"]), p.get("protocol", "TCP"))
            )
    wl_kind, wl_name = workload_of(m)
    return PodInfo(
        namespace=m.get("namespace", "default"),
        name=m["name"],
        ip=status.get("podIP", ""),
        node=spec.get("nodeName", ""),
        labels=dict(m.get("labels") or {}),
        service_account=spec.get("serviceAccountName") or spec.get("serviceAccount") or "default",
        host_network=bool(spec.get("hostNetwork", False)),
        ports=tuple(ports),
        workload_kind=wl_kind,
        workload_name=wl_name,
    )


def node_info(obj: Mapping[str, Any]) -> NodeInfo:
    m = meta(obj)
    ip = ""
    for a in (obj.get("status") or {}).get("addresses") or []:
        if a.get("type") == "InternalIP":
            ip = a.get("address", "")
            break
    return NodeInfo(
        m["name"], ip, (obj.get("spec") or {}).get("podCIDR", ""), dict(m.get("labels") or {})
    )


def service_info(obj: Mapping[str, Any]) -> ServiceInfo:
    m = meta(obj)
    spec = obj.get("spec") or {}
    ports = tuple(
        ServicePortInfo(
            p.get("name", ""),
            int(p["port"]),
            p.get("protocol", "TCP"),
            p.get("targetPort") if p.get("targetPort") is not None else int(p["port"]),
        )
        for p in spec.get("ports") or []
    )
    sel = spec.get("selector")
    return ServiceInfo(
        namespace=m.get("namespace", "default"),
        name=m["name"],
        type=spec.get("type", "ClusterIP"),
        cluster_ip=spec.get("clusterIP", ""),
        selector=dict(sel) if sel else None,
        ports=ports,
        annotations=dict(m.get("annotations") or {}),
        labels=dict(m.get("labels") or {}),
    )


@dataclass(frozen=True)
class Inventory:
    """Typed views over a cluster's objects, indexed the ways callers look them up."""

    objects: Mapping[ObjKey, Mapping[str, Any]]
    namespaces: Mapping[str, Mapping[str, str]]
    nodes: Mapping[str, NodeInfo]
    pods: Mapping[tuple[str, str], PodInfo]
    services: Mapping[tuple[str, str], ServiceInfo]

    @classmethod
    def build(cls, objects: Mapping[ObjKey, Mapping[str, Any]]) -> Inventory:
        namespaces: dict[str, Mapping[str, str]] = {}
        nodes: dict[str, NodeInfo] = {}
        pods: dict[tuple[str, str], PodInfo] = {}
        services: dict[tuple[str, str], ServiceInfo] = {}
        for (kind, ns, name), obj in objects.items():
            if kind == "Namespace":
                namespaces[name] = dict(meta(obj).get("labels") or {})
            elif kind == "Node":
                nodes[name] = node_info(obj)
            elif kind == "Pod":
                pods[(ns, name)] = pod_info(obj)
            elif kind == "Service":
                services[(ns, name)] = service_info(obj)
        return cls(dict(objects), namespaces, nodes, pods, services)

    def of_kind(self, kind: str) -> Iterable[tuple[ObjKey, Mapping[str, Any]]]:
        return ((k, v) for k, v in self.objects.items() if k[0] == kind)

    def pod_by_ip(self) -> dict[str, PodInfo]:
        return {p.ip: p for p in self.pods.values() if p.ip and not p.host_network}
