"""Plan an apply or a delete: the full desired object set of one cluster, computed purely.

``cmesh apply`` reads the cluster's current objects, calls :func:`plan_apply`, and writes the
difference in one transaction; nothing here touches the store.  The plan does what the
Kubernetes control plane and Cilium's operator would do in between:

1. store the applied objects (namespaced ones in their namespace, creating it if missing);
2. expand workloads into pods (:func:`cmesh.model.expand`) unless real pods they own are
   present (a ``kubectl get -o yaml`` dump), replacing pods an earlier expansion made;
3. give the cluster default nodes when it has pods and no node, and every node a /24 and an IP;
4. schedule pods without ``spec.nodeName`` (a stable hash over the nodes) and give pods without
   ``status.podIP`` an address from their node's /24 (host-network pods get the node's IP);
5. give Services without one a ClusterIP from the service CIDR;
6. allocate identities for the pods' identity-relevant label sets and drop unused ones
   (:mod:`cmesh.cluster.identities`).

Problems with the input (colliding addresses) are error diagnostics; facts worth a word (a pod
IP outside the pod CIDR) are warnings.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cmesh.cluster import ipam
from cmesh.cluster.config import ClusterConfig
from cmesh.cluster.identities import IDENTITY_KIND, assign_identities
from cmesh.cluster.inventory import (
    GENERATED_BY,
    WORKLOAD_ANNOTATION,
    ObjKey,
    meta,
    workload_of,
)
from cmesh.errors import Diagnostic, Severity
from cmesh.model import WORKLOAD_KINDS, Resource, expand, positions_dict

Objects = dict[ObjKey, dict[str, Any]]


@dataclass
class Plan:
    objects: Objects
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[ObjKey, str] = field(default_factory=dict)
    lines: dict[ObjKey, dict[str, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(d.severity is Severity.ERROR for d in self.diagnostics)


def default_node_names(cfg: ClusterConfig) -> list[str]:
    """kind's naming: ``<cluster>-control-plane``, ``<cluster>-worker``, ``…-worker2``."""
    names = [f"{cfg.name}-control-plane"]
    for i in range(1, max(cfg.nodes, 1)):
        names.append(f"{cfg.name}-worker" + ("" if i == 1 else str(i)))
    return names


def plan_apply(
    cfg: ClusterConfig, current: Mapping[ObjKey, dict[str, Any]], resources: Sequence[Resource]
) -> Plan:
    plan = Plan({k: v for k, v in current.items()})
    objs = plan.objects
    applied_workloads: list[ObjKey] = []
    for r in resources:
        raw = _copy_plain(r.raw)
        if r.kind == "Namespace":
            raw.setdefault("metadata", {}).setdefault("labels", {})
            raw["metadata"]["labels"] = {
                **(raw["metadata"]["labels"] or {}),
                "kubernetes.io/metadata.name": r.name,
            }
        objs[r.key] = raw
        plan.sources[r.key] = str(r.source)
        if r.info.policy:
            plan.lines[r.key] = positions_dict(r)
        if r.kind in WORKLOAD_KINDS:
            applied_workloads.append(r.key)
    _ensure_namespaces(objs)
    _expand_workloads(cfg, objs, applied_workloads)
    _finish(cfg, plan)
    return plan


def plan_delete(
    cfg: ClusterConfig, current: Mapping[ObjKey, dict[str, Any]], resources: Sequence[Resource]
) -> tuple[Plan, list[ObjKey]]:
    """Remove the named objects (a Namespace with everything in it, a workload with its pods).

    Returns the plan and the keys that were not found (kubectl reports them as NotFound).
    """
    plan = Plan({k: v for k, v in current.items()})
    objs = plan.objects
    missing: list[ObjKey] = []
    generated: dict[str, set[ObjKey]] | None = None
    for r in resources:
        if r.key not in objs:
            missing.append(r.key)
            continue
        del objs[r.key]
        if r.kind == "Namespace":
            for k in [k for k in objs if k[1] == r.name and k[0] != "Namespace"]:
                del objs[k]
        if r.kind in WORKLOAD_KINDS:
            if generated is None:
                generated = _generated_pods(objs)
            for k in generated.pop(f"{r.kind}/{r.namespace}/{r.name}", set()):
                objs.pop(k, None)
    _expand_workloads(cfg, objs, [k for k in objs if k[0] == "DaemonSet"])
    _finish(cfg, plan)
    return plan, missing


def _finish(cfg: ClusterConfig, plan: Plan) -> None:
    objs = plan.objects
    _ensure_nodes(cfg, objs)
    _schedule_and_address(cfg, plan)
    _service_ips(cfg, plan)
    assign_identities(cfg, objs)


def _generated_by(obj: Mapping[str, Any]) -> str:
    return (meta(obj).get("annotations") or {}).get(GENERATED_BY, "")


def _ensure_namespaces(objs: Objects) -> None:
    for ns in sorted({k[1] for k in objs if k[1]}):
        if ("Namespace", "", ns) not in objs:
            objs[("Namespace", "", ns)] = {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}},
            }


def _node_names(objs: Objects) -> list[str]:
    return sorted(k[2] for k in objs if k[0] == "Node")


def _generated_pods(objs: Objects) -> dict[str, set[ObjKey]]:
    """Pods an earlier expansion made, by the workload that made them (one pass)."""
    out: dict[str, set[ObjKey]] = {}
    for k, o in objs.items():
        if k[0] == "Pod":
            tag = _generated_by(o)
            if tag:
                out.setdefault(tag, set()).add(k)
    return out


def _copy_plain(value: Any) -> Any:
    """A deep copy of plain data (dicts, lists, scalars), several times faster than
    ``copy.deepcopy``; anything else goes through ``deepcopy``."""
    if isinstance(value, dict):
        return {k: _copy_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return copy.deepcopy(value)


def _expand_workloads(cfg: ClusterConfig, objs: Objects, keys: Sequence[ObjKey]) -> None:
    nodes = _node_names(objs) or default_node_names(cfg)
    real_owners = {
        (k[1], *workload_of(meta(o)))
        for k, o in objs.items()
        if k[0] == "Pod" and not _generated_by(o)
    }
    generated = _generated_pods(objs)  # kept current below: one pass, not one per workload
    for key in keys:
        kind, ns, name = key
        wl = objs.get(key)
        tag = f"{kind}/{ns}/{name}"
        old = generated.pop(tag, set())
        if wl is None or (ns, kind, name) in real_owners:
            for k in old:
                objs.pop(k, None)
            continue
        new: set[ObjKey] = set()
        for p in expand(kind, wl, ns, nodes, seed=cfg.name):
            pk = ("Pod", ns, p.name)
            new.add(pk)
            spec = _copy_plain(p.spec)
            if p.node_name:
                spec["nodeName"] = p.node_name
            prev = objs.get(pk)
            pod = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": p.name,
                    "namespace": ns,
                    "labels": p.labels,
                    "annotations": {
                        GENERATED_BY: tag,
                        WORKLOAD_ANNOTATION: f"{p.workload_kind}/{p.workload_name}",
                    },
                    "ownerReferences": [
                        {
                            "apiVersion": "batch/v1" if p.owner_kind == "Job" else "apps/v1",
                            "kind": p.owner_kind,
                            "name": p.owner_name,
                            "controller": True,
                        }
                    ],
                },
                "spec": spec,
                "status": {"phase": "Running"},
            }
            if prev is not None and _generated_by(prev) == tag:
                # Keep what the scheduler and IPAM decided for an unchanged pod.
                pod["spec"].setdefault("nodeName", (prev.get("spec") or {}).get("nodeName", ""))
                pod["status"] = _copy_plain(prev.get("status") or pod["status"])
                if not pod["spec"]["nodeName"]:
                    del pod["spec"]["nodeName"]
            objs[pk] = pod
        for k in old - new:
            objs.pop(k, None)
        generated[tag] = new


def _ensure_nodes(cfg: ClusterConfig, objs: Objects) -> None:
    wanted = {
        ((o.get("spec") or {}).get("nodeName") or "") for k, o in objs.items() if k[0] == "Pod"
    }
    wanted.discard("")
    has_pods = any(k[0] == "Pod" for k in objs)
    if has_pods and not _node_names(objs):
        wanted.update(default_node_names(cfg))
    for name in sorted(wanted):
        if ("Node", "", name) not in objs:
            objs[("Node", "", name)] = {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
                "spec": {},
                "status": {"addresses": []},
            }
    taken_cidrs = [
        (o.get("spec") or {}).get("podCIDR", "") for k, o in objs.items() if k[0] == "Node"
    ]
    taken_ips = {
        a.get("address", "")
        for k, o in objs.items()
        if k[0] == "Node"
        for a in (o.get("status") or {}).get("addresses") or []
    }
    # Free /24s and node IPs lowest first, each range walked once (not once per node).
    subnets: Iterator[str] | None = None
    node_cidr = cfg.node_cidr or "172.18.0.0/24"
    node_ips = ipam.free_addresses(node_cidr, taken_ips)
    for name in _node_names(objs):
        node = objs[("Node", "", name)]
        spec = node.setdefault("spec", {})
        if not spec.get("podCIDR"):
            if subnets is None:
                subnets = ipam.free_subnets(cfg.pod_cidr, taken_cidrs)
            cidr = next(subnets)
            node["spec"] = {**spec, "podCIDR": cidr, "podCIDRs": [cidr]}
        status = node.setdefault("status", {})
        addrs = status.get("addresses") or []
        if not any(a.get("type") == "InternalIP" for a in addrs):
            ip = next(node_ips)
            taken_ips.add(ip)
            node["status"] = {
                **status,
                "addresses": [
                    {"type": "InternalIP", "address": ip},
                    {"type": "Hostname", "address": name},
                    *addrs,
                ],
            }


def _stable_choice(key: str, options: Sequence[str]) -> str:
    h = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    return options[h % len(options)]


def _schedule_and_address(cfg: ClusterConfig, plan: Plan) -> None:
    objs = plan.objects
    nodes = {k[2]: o for k, o in objs.items() if k[0] == "Node"}
    node_list = sorted(nodes)
    node_ip = {
        n: next(
            (
                a["address"]
                for a in (o.get("status") or {}).get("addresses") or []
                if a.get("type") == "InternalIP"
            ),
            "",
        )
        for n, o in nodes.items()
    }
    pods = sorted(k for k in objs if k[0] == "Pod")
    taken: dict[str, ObjKey] = {}
    pod_net = ipam.parse_net(cfg.pod_cidr)
    for k in pods:
        pod = objs[k]
        spec = pod.get("spec") or {}
        ip = (pod.get("status") or {}).get("podIP", "")
        if ip and not spec.get("hostNetwork"):
            if not ipam.valid_ip(ip):
                plan.diagnostics.append(
                    Diagnostic(
                        f"pod {k[1]}/{k[2]} has an invalid status.podIP {ip!r}",
                        path="status.podIP",
                        obj=f"Pod {k[1]}/{k[2]}",
                        hint="remove status.podIP to let cmesh assign one",
                    )
                )
                continue
            if ip in taken:
                other = taken[ip]
                plan.diagnostics.append(
                    Diagnostic(
                        f"pod IP {ip} of {k[1]}/{k[2]} is already used by pod {other[1]}/{other[2]}",
                        path="status.podIP",
                        obj=f"Pod {k[1]}/{k[2]}",
                        hint="pod IPs must be unique; remove status.podIP to let cmesh assign one",
                    )
                )
            taken[ip] = k
            if not ipam.within(ip, pod_net):
                plan.diagnostics.append(
                    Diagnostic(
                        f"pod {k[1]}/{k[2]} keeps IP {ip}, outside cluster {cfg.name}'s pod CIDR {cfg.pod_cidr}",
                        obj=f"Pod {k[1]}/{k[2]}",
                        hint="re-install the cluster with the pod CIDR the pods really use (--pod-cidr)",
                        severity=Severity.WARNING,
                        code="ip-outside-pod-cidr",
                    )
                )
    free: dict[str, Iterator[str]] = {}  # node -> its free addresses, lowest first
    for k in pods:
        pod = objs[k]
        spec = pod.setdefault("spec", {})
        if not spec.get("nodeName"):
            spec["nodeName"] = _stable_choice(f"{k[1]}/{k[2]}", node_list)
        status = pod.setdefault("status", {})
        node = spec["nodeName"]
        if spec.get("hostNetwork"):
            if status.get("podIP") != node_ip.get(node):
                pod["status"] = {
                    **status,
                    "podIP": node_ip.get(node, ""),
                    "podIPs": [{"ip": node_ip.get(node, "")}],
                    "hostIP": node_ip.get(node, ""),
                }
            continue
        if not status.get("podIP"):
            cidr = (nodes[node].get("spec") or {}).get("podCIDR", "")
            it = free.get(node)
            if it is None:
                it = free[node] = ipam.free_addresses(cidr, taken)
            ip = next(it)
            taken[ip] = k
            pod["status"] = {
                **status,
                "phase": status.get("phase") or "Running",
                "podIP": ip,
                "podIPs": [{"ip": ip}],
                "hostIP": node_ip.get(node, ""),
            }
        elif not status.get("hostIP") and node_ip.get(node):
            pod["status"] = {**status, "hostIP": node_ip[node]}


def _service_ips(cfg: ClusterConfig, plan: Plan) -> None:
    objs = plan.objects
    taken: dict[str, ObjKey] = {}
    svcs = sorted(k for k in objs if k[0] == "Service")
    for k in svcs:
        spec = objs[k].get("spec") or {}
        ip = spec.get("clusterIP", "")
        if ip and ip != "None":
            if ip in taken:
                plan.diagnostics.append(
                    Diagnostic(
                        f"ClusterIP {ip} of service {k[1]}/{k[2]} is already used by {taken[ip][1]}/{taken[ip][2]}",
                        path="spec.clusterIP",
                        obj=f"Service {k[1]}/{k[2]}",
                        hint="remove spec.clusterIP to let cmesh assign one",
                    )
                )
            taken[ip] = k
    free = ipam.free_addresses(cfg.service_cidr, taken)  # walked once, not once per service
    for k in svcs:
        svc = objs[k]
        spec = svc.setdefault("spec", {})
        if spec.get("type") == "ExternalName" or spec.get("clusterIP"):
            continue
        if (k[1], k[2]) == ("default", "kubernetes"):  # the first address is its own
            ip = ipam.free_address(cfg.service_cidr, taken, skip_first=0)
        else:
            ip = next(free)
        taken[ip] = k
        svc["spec"] = {**spec, "clusterIP": ip, "clusterIPs": [ip]}


__all__ = ["IDENTITY_KIND", "Plan", "default_node_names", "plan_apply", "plan_delete"]
