"""What a cluster exports and how imported state joins a view (pure: values in, values out).

:func:`export_kvs` turns a cluster's view into Cilium's kvstore entries (ref §3.3);
:func:`parse_kvs` reads such entries back into :class:`RemoteData`; :func:`apply_imports` adds
remote clusters' data to a local view: identities take part in selection (ref §1.14), the
ipcache learns remote pods and nodes, and global services merge remote backends (ref §3.7).
Policies are never exported: each cluster enforces its own (ref §1.14).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from cmesh.cluster import ClusterConfig, NamedPort, NodeInfo, PodInfo
from cmesh.labels import Label, Labels
from cmesh.mesh import keys
from cmesh.policy.engine import NamedPortSpec
from cmesh.policy.view import ClusterView, Endpoint
from cmesh.services import ClusterService


@dataclass(frozen=True, slots=True)
class RemoteNode:
    cluster: str
    name: str
    ip: str
    pod_cidr: str


@dataclass(frozen=True)
class RemoteData:
    """One cluster's exported state, as another cluster reads it."""

    cluster: str
    cluster_id: int
    max_connected_clusters: int
    identities: Mapping[int, Labels]
    endpoints: tuple[Endpoint, ...]
    nodes: tuple[RemoteNode, ...]
    services: tuple[ClusterService, ...]
    synced: frozenset[str] = field(default_factory=frozenset)


def cluster_config_json(cfg: ClusterConfig) -> dict[str, object]:
    """CiliumClusterConfig (``pkg/clustermesh/utils/clustercfg.go``)."""
    return {
        "id": cfg.id,
        "capabilities": {
            "syncedCanaries": True,
            "cached": False,
            "maxConnectedClusters": cfg.max_connected_clusters,
            "serviceExportsEnabled": None,
        },
    }


def _dump(v: object) -> bytes:
    return json.dumps(v, sort_keys=True, separators=(",", ":")).encode()


def export_kvs(view: ClusterView) -> dict[str, bytes]:
    """Every key the cluster's clustermesh-apiserver would write, relative to its root."""
    cfg = view.cfg
    out: dict[str, bytes] = {keys.cluster_config(cfg.name): _dump(cluster_config_json(cfg))}
    for ident in sorted(view.engine.local):
        info = view.engine.identity(ident)
        if info is not None:
            out[keys.IDENTITIES + str(ident)] = str(info.labels).encode()
    for ep in sorted(view.endpoints.values(), key=lambda e: e.ip):
        host = view.inventory.nodes.get(ep.node)
        out[keys.IPS + ep.ip] = _dump(
            {
                "IP": ep.ip,
                "Mask": None,
                "HostIP": host.ip if host else "",
                "ID": ep.identity,
                "Key": 0,
                "Metadata": "",
                "K8sNamespace": ep.namespace,
                "K8sPodName": ep.name,
                "K8sServiceAccount": ep.pod.service_account,
                "NamedPorts": [
                    {"Name": p.name, "Port": p.port, "Protocol": p.protocol}
                    for p in ep.pod.ports
                    if p.name
                ],
                "Workload": {"kind": ep.pod.workload_kind, "name": ep.pod.workload_name}
                if ep.pod.workload_kind
                else None,
            }
        )
    for n in sorted(view.inventory.nodes.values(), key=lambda n: n.name):
        out[keys.nodes(cfg.name) + n.name] = _dump(
            {
                "Name": n.name,
                "Cluster": cfg.name,
                "ClusterID": cfg.id,
                "IPAddresses": [{"Type": "InternalIP", "IP": n.ip}],
                "IPv4AllocCIDR": n.pod_cidr,
                "Labels": dict(n.labels),
            }
        )
    for (ns, name), lb in sorted(view.lb.items()):
        if not lb.global_:
            continue
        out[keys.services(cfg.name) + f"{ns}/{name}"] = _dump(view.cluster_service(lb).to_json())
    for prefix in keys.state_prefixes(cfg.name).values():
        out[keys.synced(cfg.name, prefix)] = b"1"
    return out


def parse_kvs(cluster: str, kvs: Mapping[str, bytes]) -> RemoteData:
    """Read a remote cluster's entries (relative keys) back into values."""
    cfg_raw = kvs.get(keys.cluster_config(cluster))
    cfg = json.loads(cfg_raw) if cfg_raw else {}
    identities: dict[int, Labels] = {}
    endpoints: list[Endpoint] = []
    nodes: list[RemoteNode] = []
    services: list[ClusterService] = []
    synced: set[str] = set()
    for k, v in kvs.items():
        if k.startswith(keys.IDENTITIES):
            identities[int(k[len(keys.IDENTITIES) :])] = Labels.parse(
                x for x in v.decode().split(";") if x
            )
        elif k.startswith(keys.synced(cluster, "")):
            synced.add(k[len(keys.synced(cluster, "")) :])
    for k, v in kvs.items():
        if k.startswith(keys.IPS):
            d = json.loads(v)
            labels = identities.get(int(d["ID"]), Labels([Label("reserved", "unknown")]))
            wl = d.get("Workload") or {}
            ports = tuple(
                NamedPort(p["Name"], int(p["Port"]), p["Protocol"])
                for p in d.get("NamedPorts") or []
            )
            pod = PodInfo(
                d.get("K8sNamespace", ""),
                d.get("K8sPodName", ""),
                d["IP"],
                "",
                {lb.key: lb.value for lb in labels.labels() if lb.source == "k8s"},
                d.get("K8sServiceAccount", ""),
                False,
                ports,
                wl.get("kind", ""),
                wl.get("name", ""),
            )
            endpoints.append(
                Endpoint(
                    cluster,
                    pod.namespace,
                    pod.name,
                    d["IP"],
                    d.get("HostIP", ""),
                    int(d["ID"]),
                    labels,
                    pod,
                )
            )
        elif k.startswith(keys.nodes(cluster)):
            d = json.loads(v)
            ip = next(
                (a["IP"] for a in d.get("IPAddresses") or [] if a.get("Type") == "InternalIP"), ""
            )
            nodes.append(RemoteNode(cluster, d["Name"], ip, d.get("IPv4AllocCIDR", "")))
        elif k.startswith(keys.services(cluster)):
            services.append(ClusterService.from_json(json.loads(v)))
    caps = cfg.get("capabilities") or {}
    return RemoteData(
        cluster,
        int(cfg.get("id", 0)),
        int(caps.get("maxConnectedClusters", 255)),
        identities,
        tuple(sorted(endpoints, key=lambda e: e.ip)),
        tuple(sorted(nodes, key=lambda n: n.name)),
        tuple(sorted(services, key=lambda s: (s.namespace, s.name))),
        frozenset(synced),
    )


def apply_imports(
    view: ClusterView,
    remotes: Iterable[RemoteData],
    *,
    services: list[ClusterService] | None = None,
) -> None:
    """Join remote clusters' state to ``view`` (the agent's remote watchers, ref §3.5).

    ``services`` is every remote global service the view should load-balance to, when it is not
    just those of ``remotes`` (an agent re-applying one changed remote passes all of them).
    """
    remotes = list(remotes)
    for r in remotes:
        if r.cluster == view.name:
            continue
        named: dict[int, set[NamedPortSpec]] = {}
        for ep in r.endpoints:
            named.setdefault(ep.identity, set()).update(ep.named_ports)
        for ident, labels in sorted(r.identities.items()):
            view.add_remote_identity(ident, labels, sorted(named.get(ident, ())))
        for ep in r.endpoints:
            view.add_remote_endpoint(ep)
        for n in r.nodes:
            view.remote_nodes[n.ip] = NodeInfo(n.name, n.ip, n.pod_cidr)
            view.remote_node_cluster[n.ip] = n.cluster
    if services is None:
        services = [s for r in remotes if r.cluster != view.name for s in r.services]
    view.rebuild_services([s for s in services if s.cluster != view.name])


def export_data(view: ClusterView) -> RemoteData:
    """What another cluster learns from ``view`` (export then parse, for pure tests)."""
    return parse_kvs(view.name, export_kvs(view))
