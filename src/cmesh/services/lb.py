"""Service load-balancing tables, local and global (ref §2.4, §3.7).

A :class:`LBService` is a cluster's view of one Service: its frontends (ClusterIP:port) and, per
service port (matched across clusters by port name, as Cilium's ClusterService does), the
backends it load-balances to.  A global service merges the backends of every cluster where the
same namespace/name is global *and* shared; the local cluster always uses its own.  Affinity
marks the preferred backends: ``local`` prefers this cluster's while any is available,
``remote`` the others', ``none`` treats all alike.  Backend choice is a stable hash of the flow,
so the same flow always reaches the same backend.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from cmesh.services.annotations import Affinity, global_settings


@dataclass(frozen=True, slots=True, order=True)
class Backend:
    ip: str
    port: int
    protocol: str
    cluster: str
    namespace: str = ""
    pod: str = ""
    node: str = ""


@dataclass(frozen=True, slots=True)
class ServicePort:
    name: str
    port: int
    protocol: str
    target_port: int | str


@dataclass(frozen=True, slots=True)
class PodRef:
    """What the load balancer needs of a pod: address, labels and named ports."""

    cluster: str
    namespace: str
    name: str
    ip: str
    node: str
    labels: Mapping[str, str]
    named_ports: Mapping[tuple[str, str], int] = field(
        default_factory=dict
    )  # (name, proto) -> port


@dataclass(frozen=True, slots=True)
class ClusterService:
    """A service as a cluster exports it (``pkg/clustermesh/store/store.go`` ClusterService)."""

    cluster: str
    cluster_id: int
    namespace: str
    name: str
    frontends: Mapping[str, Mapping[str, tuple[int, str]]]  # ip -> port name -> (port, proto)
    backends: Mapping[str, Mapping[str, tuple[int, str]]]  # ip -> port name -> (port, proto)
    labels: Mapping[str, str] = field(default_factory=dict)
    selector: Mapping[str, str] = field(default_factory=dict)
    shared: bool = True
    include_external: bool = True

    def to_json(self) -> dict[str, object]:
        def ports(m: Mapping[str, Mapping[str, tuple[int, str]]]) -> dict[str, object]:
            return {
                ip: {n: {"Protocol": p[1], "Port": p[0]} for n, p in sorted(v.items())}
                for ip, v in sorted(m.items())
            }

        return {
            "cluster": self.cluster,
            "namespace": self.namespace,
            "name": self.name,
            "frontends": ports(self.frontends),
            "backends": ports(self.backends),
            "hostnames": {},
            "zones": {},
            "labels": dict(self.labels),
            "selector": dict(self.selector),
            "includeExternal": self.include_external,
            "shared": self.shared,
            "clusterID": self.cluster_id,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, object]) -> ClusterService:
        def ports(m: object) -> dict[str, dict[str, tuple[int, str]]]:
            out: dict[str, dict[str, tuple[int, str]]] = {}
            for ip, v in (m or {}).items():  # type: ignore[union-attr]
                out[ip] = {n: (int(p["Port"]), str(p["Protocol"])) for n, p in v.items()}
            return out

        return cls(
            cluster=str(d["cluster"]),
            cluster_id=int(d.get("clusterID", 0)),  # type: ignore[arg-type]
            namespace=str(d["namespace"]),
            name=str(d["name"]),
            frontends=ports(d.get("frontends")),
            backends=ports(d.get("backends")),
            labels=dict(d.get("labels") or {}),  # type: ignore[arg-type]
            selector=dict(d.get("selector") or {}),  # type: ignore[arg-type]
            shared=bool(d.get("shared", True)),
            include_external=bool(d.get("includeExternal", True)),
        )


@dataclass(frozen=True, slots=True)
class LBService:
    cluster: str
    namespace: str
    name: str
    type: str
    cluster_ip: str
    ports: tuple[ServicePort, ...]
    backends: Mapping[str, tuple[Backend, ...]]  # port name -> backends, sorted
    global_: bool = False
    shared: bool = False
    affinity: Affinity = Affinity.NONE
    problems: tuple[str, ...] = ()

    def port(self, number: int, protocol: str) -> ServicePort | None:
        return next(
            (p for p in self.ports if (number in (0, p.port)) and p.protocol == protocol), None
        )

    def backends_for(self, sp: ServicePort) -> tuple[Backend, ...]:
        return self.backends.get(sp.name, ())

    def preferred(self, sp: ServicePort) -> tuple[Backend, ...]:
        """The backends affinity prefers (all of them under ``none``)."""
        bes = self.backends_for(sp)
        if self.affinity is Affinity.NONE:
            return bes
        local = tuple(b for b in bes if b.cluster == self.cluster)
        remote = tuple(b for b in bes if b.cluster != self.cluster)
        first, second = (local, remote) if self.affinity is Affinity.LOCAL else (remote, local)
        return first or second

    def select(self, sp: ServicePort, flow_key: str) -> Backend | None:
        """The backend a flow goes to: a stable hash over the preferred backends (sorted, as
        :func:`build_service` keeps them)."""
        pool = self.preferred(sp)
        if not pool:
            return None
        h = int.from_bytes(hashlib.sha256(flow_key.encode()).digest()[:8], "big")
        return pool[h % len(pool)]


def _target(port: ServicePort, pod: PodRef) -> int | None:
    tp = port.target_port
    if isinstance(tp, int):
        return tp
    if tp.isdigit():
        return int(tp)
    return pod.named_ports.get((tp, port.protocol))


def local_backends(
    ports: Iterable[ServicePort],
    selector: Mapping[str, str] | None,
    namespace: str,
    pods: Iterable[PodRef],
) -> dict[str, tuple[Backend, ...]]:
    """Backends per port name from the pods a selector picks (EndpointSlice controller)."""
    out: dict[str, list[Backend]] = {}
    if not selector:
        return {}
    chosen = [
        p
        for p in pods
        if p.namespace == namespace
        and p.ip
        and all(p.labels.get(k) == v for k, v in selector.items())
    ]
    for sp in ports:
        for pod in chosen:
            t = _target(sp, pod)
            if t is not None:
                out.setdefault(sp.name, []).append(
                    Backend(pod.ip, t, sp.protocol, pod.cluster, pod.namespace, pod.name, pod.node)
                )
    return {k: tuple(sorted(v)) for k, v in out.items()}


def build_service(
    cluster: str,
    namespace: str,
    name: str,
    type_: str,
    cluster_ip: str,
    ports: tuple[ServicePort, ...],
    annotations: Mapping[str, str],
    local: Mapping[str, tuple[Backend, ...]],
    remotes: Iterable[ClusterService] = (),
) -> LBService:
    """A cluster's LB entry for a service: its own backends plus, when global, the backends of
    every remote cluster where the service is global and shared (ref §3.7 merging rule)."""
    gs = global_settings(annotations)
    merged: dict[str, list[Backend]] = {k: list(v) for k, v in local.items()}
    if gs.global_:
        for rs in remotes:
            if (
                rs.namespace != namespace
                or rs.name != name
                or not rs.shared
                or rs.cluster == cluster
            ):
                continue
            for ip, by_name in rs.backends.items():
                for pname, (port, proto) in by_name.items():
                    merged.setdefault(pname, []).append(
                        Backend(ip, port, proto, rs.cluster, namespace)
                    )
    return LBService(
        cluster,
        namespace,
        name,
        type_,
        cluster_ip,
        ports,
        {k: tuple(sorted(set(v))) for k, v in merged.items()},
        gs.global_,
        gs.shared,
        gs.affinity,
        gs.problems,
    )
