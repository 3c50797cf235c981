"""Synthetic meshes: clusters × namespaces × workloads/pods × policies, deterministic from a seed.

For benchmarks (``bench/policy_engine.py``), differential tests and other tools (a connectivity
lister; network-config-analyzer for ``knp_only`` meshes).  Sizes are **per cluster**:

* ``identities`` distinct label sets: one Deployment per set (``app``/``tier``/``team``, some
  ``version``), spread over namespaces labelled ``team``/``env``, plus ``kube-system/coredns``
  (``k8s-app=kube-dns``) and ``monitoring/prometheus``; every workload of a tier has that tier's named container ports;
* ``pods`` replicas over those workloads (skewed: a few big ones, many small);
* ``policies`` objects: CNPs (fromEndpoints matchLabels/matchExpressions, namespace-crossing
  selectors, namespace-label selectors, entities, CIDR with except, port lists/ranges/named
  ports, a little L7, ``{}`` default-deny idioms, ``enableDefaultDeny: false``), deny rules,
  egress rules, CCNPs and a share of Kubernetes NetworkPolicies; cross-cluster selectors when
  there are several clusters.

Every cluster deploys the same workload catalogue (so cross-cluster selectors select), with its
own replica counts and policies.  Output per cluster: a :class:`ClusterConfig` and manifests as
dicts (:meth:`SynthCluster.manifests`, :meth:`SynthCluster.yaml`), either with Deployments (for
``plan_apply``) or with explicit Pods carrying ``spec.nodeName``/``status.podIP`` and their Nodes
(``pods=True``: for tools that read pods).  :meth:`SynthCluster.objects` builds the stored-object
dict directly (pods, nodes and ``CiliumIdentity`` objects via :mod:`cmesh.cluster.identities`),
skipping YAML and ``plan_apply`` (at 20k pods 1.6 s against 4 s, or 12 s with explicit Pods;
``bench/README.md`` has the figures); all paths give the same identities and endpoint labels.
:meth:`SynthMesh.mesh` builds every cluster's view and connects them all.
"""

from __future__ import annotations

import copy
import ipaddress
import itertools
import math
import random
from dataclasses import dataclass, field
from typing import Any

import yaml

from cmesh.cluster import ClusterConfig, ObjKey, plan_apply
from cmesh.cluster.identities import assign_identities
from cmesh.datapath.peers import Mesh
from cmesh.errors import Severity
from cmesh.identity import ReservedIdentity
from cmesh.model import load_text
from cmesh.policy import Direction, PolicyEngine, Protocol, build_view

Manifest = dict[str, Any]
Flow = tuple[Direction, int, int, Protocol, int]  # direction, subject, peer, protocol, port
Objects = dict[ObjKey, dict[str, Any]]

TEAMS = ("payments", "search", "identity", "platform", "growth", "data", "ml", "infra")
ENVS = ("prod", "staging", "dev")
PortSpec = tuple[str, int, str]  # (name, containerPort, protocol)
TIER_PORTS: dict[str, tuple[PortSpec, ...]] = {
    "web": (("http", 8080, "TCP"), ("metrics", 9100, "TCP")),
    "api": (("http", 8080, "TCP"), ("grpc", 9090, "TCP"), ("metrics", 9100, "TCP")),
    "db": (("postgres", 5432, "TCP"), ("metrics", 9187, "TCP")),
    "cache": (("redis", 6379, "TCP"), ("metrics", 9121, "TCP")),
    "worker": (("metrics", 9100, "TCP"),),
    "batch": (),
}
TIERS = tuple(TIER_PORTS)
EXTERNAL = ("203.0.113.0/24", "198.51.100.0/24", "192.0.2.0/24", "52.0.0.0/8", "34.64.0.0/10")
PODS_PER_NODE = 110
FLOW_PORTS = (
    (Protocol.TCP, 8080),
    (Protocol.TCP, 443),
    (Protocol.TCP, 5432),
    (Protocol.TCP, 6379),
    (Protocol.TCP, 9090),
    (Protocol.TCP, 9100),
    (Protocol.UDP, 53),
    (Protocol.TCP, 8500),
    (Protocol.TCP, 33000),
)
RESERVED_PEERS = (
    ReservedIdentity.HOST,
    ReservedIdentity.WORLD,
    ReservedIdentity.REMOTE_NODE,
    ReservedIdentity.KUBE_APISERVER,
)
WORLD_IPS = ("203.0.113.9", "52.1.2.3", "100.64.0.5", "8.8.8.8", "169.254.169.254", "34.65.0.1")


@dataclass(frozen=True)
class SynthParams:
    pods: int = 2000
    identities: int = 200
    policies: int = 200
    clusters: int = 1
    namespaces: int = 0  # 0: about one per 25 identities
    seed: int = 0
    knp_only: bool = False
    knp_share: float = 0.2
    ccnp_share: float = 0.05
    deny_share: float = 0.1
    egress_share: float = 0.3


@dataclass(frozen=True)
class Workload:
    namespace: str
    name: str
    labels: dict[str, str]
    ports: tuple[PortSpec, ...]
    service_account: str

    @property
    def tier(self) -> str:
        return self.labels.get("tier", "")


@dataclass
class SynthCluster:
    config: ClusterConfig
    namespaces: dict[str, dict[str, str]]  # name -> labels
    workloads: list[Workload]
    replicas: list[int]  # per workload
    policies: list[Manifest]
    peers: tuple[str, ...] = ()  # the other clusters' names

    @property
    def pods_per_node(self) -> int:
        """110 (the kubelet default), more when a /16 would run out of /24s (250 nodes)."""
        return max(PODS_PER_NODE, math.ceil(sum(self.replicas) / 250))

    @property
    def node_count(self) -> int:
        return max(1, math.ceil(sum(self.replicas) / self.pods_per_node))

    def node_name(self, i: int) -> str:
        return f"{self.config.name}-worker{i}"

    def _pods(self) -> list[tuple[Workload, str, int, str]]:
        """(workload, pod name, node index, IP) per replica: a /24 per node, IPs from .2 up."""
        if self.pods_per_node > 253:
            raise ValueError("at most 63,250 pods fit a cluster's /16 pod CIDR")
        subnets = ipaddress.ip_network(self.config.pod_cidr).subnets(new_prefix=24)
        out, node, used = [], -1, self.pods_per_node
        base = ipaddress.IPv4Address("0.0.0.0")
        for w, n in zip(self.workloads, self.replicas, strict=True):
            for i in range(n):
                if used == self.pods_per_node:
                    node, used, base = node + 1, 0, next(subnets).network_address
                out.append((w, f"{w.name}-{i}", node, str(base + 2 + used)))
                used += 1
        return out

    def namespace_manifests(self) -> list[Manifest]:
        return [
            _obj("v1", "Namespace", {"name": n, "labels": lb}) for n, lb in self.namespaces.items()
        ]

    def workload_manifests(self) -> list[Manifest]:
        out = []
        for w, n in zip(self.workloads, self.replicas, strict=True):
            template = {"metadata": {"labels": dict(w.labels)}, "spec": _pod_spec(w)}
            selector = {"matchLabels": {"app": w.labels["app"]}}
            spec = {"replicas": n, "selector": selector, "template": template}
            meta = {"name": w.name, "namespace": w.namespace}
            out += [_obj("apps/v1", "Deployment", meta, spec=spec)] if n > 0 else []
        return out

    def pod_manifests(self) -> list[Manifest]:
        """Nodes and explicit Pods with ``spec.nodeName`` and ``status.podIP`` set."""
        subnets = ipaddress.ip_network(self.config.pod_cidr).subnets(new_prefix=24)
        node_net = ipaddress.ip_network(self.config.node_cidr)
        node_ips = [str(node_net[i + 2]) for i in range(self.node_count)]
        nodes: list[Manifest] = []
        for i, node_ip in enumerate(node_ips):
            cidr, name = str(next(subnets)), self.node_name(i)
            addrs = [
                {"type": "InternalIP", "address": node_ip},
                {"type": "Hostname", "address": name},
            ]
            spec = {"podCIDR": cidr, "podCIDRs": [cidr]}
            nodes.append(_obj("v1", "Node", {"name": name}, spec=spec, status={"addresses": addrs}))
        pods = []
        for w, name, node, ip in self._pods():
            meta = {"name": name, "namespace": w.namespace, "labels": dict(w.labels)}
            spec = {**_pod_spec(w), "nodeName": self.node_name(node)}
            status = {
                "phase": "Running",
                "podIP": ip,
                "podIPs": [{"ip": ip}],
                "hostIP": node_ips[node],
            }
            pods.append(_obj("v1", "Pod", meta, spec=spec, status=status))
        return nodes + pods

    def manifests(self, *, pods: bool = False) -> list[Manifest]:
        body = self.pod_manifests() if pods else self.workload_manifests()
        return self.namespace_manifests() + body + self.policies

    def yaml(self, *, pods: bool = False) -> str:
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml: ~7x faster
        return yaml.dump_all(self.manifests(pods=pods), Dumper=dumper, sort_keys=False)

    def objects(self) -> Objects:
        """The cluster's stored objects, built directly (what ``plan_apply`` would store)."""
        objs: Objects = {}
        fresh = self.pod_manifests()  # new dicts: no copy needed
        for m in [*copy.deepcopy(self.namespace_manifests() + self.policies), *fresh]:
            md = m["metadata"]
            objs[(m["kind"], md.get("namespace", ""), md["name"])] = m
        assign_identities(self.config, objs)
        return objs

    def objects_via_plan(self, *, pods: bool = False) -> Objects:
        """``load_text`` + ``plan_apply`` of :meth:`yaml`: the path ``cmesh apply`` takes."""
        resources, diags = load_text(self.yaml(pods=pods), f"{self.config.name}.yaml")
        errors = [d.render() for d in diags if d.severity is Severity.ERROR]
        if errors:
            raise ValueError("synthetic manifests do not load:\n" + "\n".join(errors[:5]))
        return plan_apply(self.config, {}, resources).objects


@dataclass
class SynthMesh:
    params: SynthParams
    clusters: list[SynthCluster] = field(default_factory=list)

    def objects(self, *, via_plan: bool = False) -> dict[str, Objects]:
        """Every cluster's stored objects, by cluster name."""
        return {
            c.config.name: c.objects_via_plan() if via_plan else c.objects() for c in self.clusters
        }

    def mesh(self, *, via_plan: bool = False) -> Mesh:
        """Every cluster's view, all connected to each other (``Mesh.connect``)."""
        objs = self.objects(via_plan=via_plan)
        mesh = Mesh(
            {c.config.name: build_view(c.config, objs[c.config.name]) for c in self.clusters}
        )
        for a, b in itertools.combinations(sorted(mesh.views), 2):
            mesh.connect(a, b)
        return mesh


# -- generation -------------------------------------------------------------------------------


def _obj(api_version: str, kind: str, metadata: dict[str, Any], **fields: Any) -> Manifest:
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **fields}


def _pod_spec(w: Workload) -> dict[str, Any]:
    ports = [{"name": n, "containerPort": p, "protocol": proto} for n, p, proto in w.ports]
    return {
        "serviceAccountName": w.service_account,
        "containers": [{"name": w.labels["app"], "image": "example/app:1", "ports": ports}],
    }


def _catalogue(
    p: SynthParams, rng: random.Random
) -> tuple[dict[str, dict[str, str]], list[Workload]]:
    n_ns = p.namespaces or max(2, round(p.identities / 25))
    namespaces: dict[str, dict[str, str]] = {"kube-system": {}, "monitoring": {"team": "infra"}}
    for i in range(n_ns):
        namespaces[f"ns-{i:03d}"] = {"team": TEAMS[i % len(TEAMS)], "env": rng.choice(ENVS)}
    for name, labels in namespaces.items():  # as the API server labels every namespace
        labels["kubernetes.io/metadata.name"] = name
    dns_ports = (("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), ("metrics", 9153, "TCP"))
    workloads = [
        Workload(
            "kube-system",
            "coredns",
            {"k8s-app": "kube-dns", "app": "coredns"},
            dns_ports,
            "coredns",
        ),
        Workload(
            "monitoring", "prometheus", {"app": "prometheus", "tier": "worker"}, (), "prometheus"
        ),
    ]
    user = sorted(n for n in namespaces if n.startswith("ns-"))
    for i in range(max(0, p.identities - len(workloads))):
        ns = user[i % len(user)]
        tier = rng.choices(TIERS, weights=(3, 4, 1, 1, 2, 1))[0]
        name = f"{tier}-{i:05d}"
        labels = {"app": name, "tier": tier, "team": namespaces[ns]["team"]}
        if rng.random() < 0.3:
            labels["version"] = rng.choice(("v1", "v2", "canary"))
        sa = name if rng.random() < 0.5 else "default"
        workloads.append(Workload(ns, name, labels, TIER_PORTS[tier], sa))
    return namespaces, workloads


def _replicas(pods: int, n: int, rng: random.Random) -> list[int]:
    """``pods`` replicas over ``n`` workloads: one each, the rest weighted by a Pareto draw."""
    out = [1] * min(n, pods) + [0] * max(0, n - pods)
    weights = [rng.paretovariate(1.2) for _ in range(n)]
    for i in rng.choices(range(n), weights=weights, k=max(0, pods - n)):
        out[i] += 1
    return out


class _Gen:
    """Policy templates over one cluster's catalogue; each returns one policy object."""

    def __init__(self, c: SynthCluster, p: SynthParams, rng: random.Random) -> None:
        self.c, self.p, self.rng = c, p, rng
        self.user = [w for w in c.workloads if w.namespace.startswith("ns-")]
        self.by_ns: dict[str, list[Workload]] = {}
        for w in self.user:
            self.by_ns.setdefault(w.namespace, []).append(w)

    def pick(self, same_ns: Workload | None = None) -> Workload:
        pool = self.by_ns[same_ns.namespace] if same_ns is not None else self.user
        return self.rng.choice(pool)

    def ports(self, w: Workload) -> list[dict[str, Any]]:
        r, named = self.rng.random(), [x for x in w.ports if x[0] != "metrics"]
        if not named:
            return [{"port": "8080", "protocol": "TCP"}]
        if r < 0.4:
            return [{"port": named[0][0], "protocol": "TCP"}]
        if r < 0.75:
            return [{"port": str(n), "protocol": proto} for _, n, proto in named]
        if r < 0.9:
            return [{"port": "8000", "endPort": 8999, "protocol": "TCP"}, {"port": "443"}]
        return [{"port": str(named[0][1]), "protocol": "ANY"}]

    def cidr(self) -> dict[str, Any]:
        r = self.rng.random()
        if r < 0.3:
            return {
                "cidr": "0.0.0.0/0",
                "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
            }
        if r < 0.6:
            return {"cidr": self.rng.choice(EXTERNAL)}
        net = ipaddress.ip_network(
            f"100.{64 + self.rng.randrange(64)}.{self.rng.randrange(256)}.0/24"
        )
        return {"cidr": str(net), "except": [str(next(net.subnets(new_prefix=28)))]}

    def peer(self, target: Workload) -> dict[str, Any]:
        """A CNP peer selector for something that talks to ``target``."""
        r, src = self.rng.random(), self.pick(target if self.rng.random() < 0.7 else None)
        if r < 0.45:
            sel: dict[str, Any] = {"matchLabels": {"app": src.labels["app"]}}
            if src.namespace != target.namespace:
                sel["matchLabels"]["k8s:io.kubernetes.pod.namespace"] = src.namespace
            return sel
        if r < 0.65:
            tiers = self.rng.sample(TIERS, 2)
            exprs = [{"key": "tier", "operator": "In", "values": tiers}]
            if self.rng.random() < 0.5:
                exprs.append({"key": "version", "operator": "NotIn", "values": ["canary"]})
            return {"matchExpressions": exprs}
        if r < 0.8:
            return {"matchLabels": {"io.cilium.k8s.namespace.labels.team": src.labels["team"]}}
        if r < 0.9 and self.c.peers:
            cluster = self.rng.choice(self.c.peers)
            return {
                "matchLabels": {
                    "io.cilium.k8s.policy.cluster": cluster,
                    "io.kubernetes.pod.namespace": src.namespace,
                    "app": src.labels["app"],
                }
            }
        return {"matchLabels": {"team": src.labels["team"], "tier": src.tier}}

    def cnp(self, i: int) -> Manifest:
        rng, t = self.rng, self.pick()
        subject: dict[str, Any] = {"matchLabels": {"app": t.labels["app"]}}
        if rng.random() < 0.15:
            subject = {"matchLabels": {"tier": t.tier}}
        spec: dict[str, Any] = {"endpointSelector": subject}
        r = rng.random()
        if r < 0.04:
            spec = {"endpointSelector": {}, "ingress": [{}]}
            if rng.random() < 0.5:
                spec["egress"] = [{}]
        elif r < self.p.egress_share:
            spec["egress"] = [self.egress(t)]
            if rng.random() < 0.5:
                spec["egress"].append(self.dns())
        else:
            spec["ingress"] = [self.ingress(t) for _ in range(rng.choice((1, 1, 2)))]
        if rng.random() < self.p.deny_share:
            spec.update(self.deny(t))
        if rng.random() < 0.05:
            spec["enableDefaultDeny"] = {"ingress": False, "egress": False}
        meta = {"name": f"cnp-{i:05d}", "namespace": t.namespace}
        return _obj("cilium.io/v2", "CiliumNetworkPolicy", meta, spec=spec)

    def ingress(self, t: Workload) -> dict[str, Any]:
        r = self.rng.random()
        if r < 0.1:
            return {
                "fromEntities": [self.rng.choice(("world", "cluster", "host", "remote-node"))],
                "toPorts": [{"ports": self.ports(t)}],
            }
        if r < 0.13 and t.tier in ("web", "api"):
            rules = {"http": [{"method": "GET", "path": "/api/.*"}, {"method": "POST"}]}
            ports = [{"ports": [{"port": "8080", "protocol": "TCP"}], "rules": rules}]
            return {"fromEndpoints": [self.peer(t)], "toPorts": ports}
        elem: dict[str, Any] = {
            "fromEndpoints": [self.peer(t) for _ in range(self.rng.choice((1, 1, 2)))]
        }
        if self.rng.random() < 0.9:
            elem["toPorts"] = [{"ports": self.ports(t)}]
        return elem

    def egress(self, t: Workload) -> dict[str, Any]:
        if self.rng.random() < 0.35:
            key = "toCIDRSet" if self.rng.random() < 0.7 else "toCIDR"
            peers: list[Any] = [self.cidr() for _ in range(self.rng.choice((1, 2)))]
            if key == "toCIDR":
                peers = [c["cidr"] for c in peers]
            return {key: peers, "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}]}
        dst = self.pick(t if self.rng.random() < 0.6 else None)
        sel = {
            "matchLabels": {
                "app": dst.labels["app"],
                "k8s:io.kubernetes.pod.namespace": dst.namespace,
            }
        }
        return {"toEndpoints": [sel], "toPorts": [{"ports": self.ports(dst)}]}

    def dns(self) -> dict[str, Any]:
        sel = {
            "matchLabels": {"k8s:io.kubernetes.pod.namespace": "kube-system", "k8s-app": "kube-dns"}
        }
        pr: dict[str, Any] = {
            "ports": [{"port": "53", "protocol": "UDP"}, {"port": "53", "protocol": "TCP"}]
        }
        if self.rng.random() < 0.3:
            pr["rules"] = {"dns": [{"matchPattern": "*"}]}
        return {"toEndpoints": [sel], "toPorts": [pr]}

    def deny(self, t: Workload) -> dict[str, Any]:
        r = self.rng.random()
        if r < 0.4:
            sel = {"matchLabels": {"tier": "batch"}}
            return {
                "ingressDeny": [{"fromEndpoints": [sel], "toPorts": [{"ports": self.ports(t)}]}]
            }
        if r < 0.7:
            return {"egressDeny": [{"toCIDR": ["169.254.169.254/32"]}]}
        return {
            "ingressDeny": [{"fromEntities": ["world"], "toPorts": [{"ports": [{"port": "9100"}]}]}]
        }

    def ccnp(self, i: int) -> Manifest:
        r, meta = self.rng.random(), {"name": f"ccnp-{i:05d}"}
        scrape = {
            "matchLabels": {"k8s:io.kubernetes.pod.namespace": "monitoring", "app": "prometheus"}
        }
        if r < 0.4:
            tiers = self.rng.sample(TIERS[:5], 2)
            spec: dict[str, Any] = {
                "endpointSelector": {
                    "matchExpressions": [{"key": "tier", "operator": "In", "values": tiers}]
                },
                "ingress": [
                    {
                        "fromEndpoints": [scrape],
                        "toPorts": [{"ports": [{"port": "metrics", "protocol": "TCP"}]}],
                    }
                ],
            }
        elif r < 0.7:
            spec = {
                "endpointSelector": {"matchLabels": {"tier": "db"}},
                "ingressDeny": [{"fromEntities": ["world"]}],
                "enableDefaultDeny": {"ingress": False},
            }
        else:
            spec = {
                "endpointSelector": {},
                "egress": [self.dns()],
                "enableDefaultDeny": {"egress": False},
            }
        return _obj("cilium.io/v2", "CiliumClusterwideNetworkPolicy", meta, spec=spec)

    def knp(self, i: int) -> Manifest:
        rng, t = self.rng, self.pick()
        spec: dict[str, Any] = {"podSelector": {"matchLabels": {"app": t.labels["app"]}}}
        ports = [
            {"protocol": "TCP", "port": int(p["port"]) if p["port"].isdigit() else p["port"]}
            for p in self.ports(t)
            if p.get("protocol", "TCP") in ("TCP", "ANY")
        ]
        r = rng.random()
        if r < 0.08:
            spec = {
                "podSelector": {},
                "policyTypes": rng.choice((["Ingress"], ["Ingress", "Egress"])),
            }
        elif r < self.p.egress_share:
            c = self.cidr()
            block = {"cidr": c["cidr"], **({"except": c["except"]} if "except" in c else {})}
            spec["policyTypes"] = ["Egress"]
            spec["egress"] = [
                {"to": [{"ipBlock": block}], "ports": [{"protocol": "TCP", "port": 443}]}
            ]
        else:
            src = self.pick(t if rng.random() < 0.7 else None)
            peer: dict[str, Any] = {"podSelector": {"matchLabels": {"app": src.labels["app"]}}}
            if src.namespace != t.namespace:
                peer["namespaceSelector"] = {
                    "matchLabels": {"kubernetes.io/metadata.name": src.namespace}
                }
            elif rng.random() < 0.25:
                peer = {"namespaceSelector": {"matchLabels": {"team": src.labels["team"]}}}
            spec["ingress"] = [{"from": [peer], **({"ports": ports} if ports else {})}]
        meta = {"name": f"knp-{i:05d}", "namespace": t.namespace}
        return _obj("networking.k8s.io/v1", "NetworkPolicy", meta, spec=spec)

    def policy(self, i: int) -> Manifest:
        r = self.rng.random()
        if self.p.knp_only or r < self.p.knp_share:
            return self.knp(i)
        if r < self.p.knp_share + self.p.ccnp_share:
            return self.ccnp(i)
        return self.cnp(i)


def generate(p: SynthParams) -> SynthMesh:
    """A mesh of ``p.clusters`` clusters (named ``cluster-1``…, ids 1…), all from ``p.seed``."""
    namespaces, workloads = _catalogue(p, random.Random(f"{p.seed}/catalogue"))
    names = tuple(f"cluster-{i + 1}" for i in range(p.clusters))
    mesh = SynthMesh(p)
    for i, name in enumerate(names):
        rng = random.Random(f"{p.seed}/{name}")
        cfg = ClusterConfig(
            context=name,
            name=name,
            id=i + 1,
            pod_cidr=f"10.{i + 1}.0.0/16",
            node_cidr=f"172.18.{i}.0/24",
            nodes=max(1, math.ceil(p.pods / PODS_PER_NODE)),
        )
        c = SynthCluster(cfg, namespaces, workloads, _replicas(p.pods, len(workloads), rng), [])
        c.peers = tuple(n for n in names if n != name)
        gen = _Gen(c, p, rng)
        c.policies = [gen.policy(j) for j in range(p.policies)]
        mesh.clusters.append(c)
    return mesh


def extra_policies(c: SynthCluster, p: SynthParams, n: int, seed: int = 1) -> list[Manifest]:
    """``n`` more policies of ``c``'s mix, named apart from the generated ones."""
    gen = _Gen(c, p, random.Random(f"{p.seed}/{c.config.name}/extra/{seed}"))
    return [gen.policy(p.policies + 10_000 + j) for j in range(n)]


def sample_flows(engine: PolicyEngine, n: int, rng: random.Random) -> list[Flow]:
    """A random mix of local subjects with peers and ports.

    40% of the flows aim at something the subject's policy names (a peer and port of one of its
    map entries, so that allows and denies are exercised); the rest draw the peer at random:
    local 65%, remote 10%, reserved 10%, a world address 15%, with a port from a common list.
    """
    local = sorted(engine.local)
    remote = [i for i in sorted(engine.cache.identities) if i >= 256 and i not in engine.local]
    remote = [i for i in remote if not engine.cache.identities[i].cidr] or local
    world = [engine.world_identity(ip) for ip in WORLD_IPS]
    out: list[Flow] = []
    while len(out) < n:
        subject = rng.choice(local)
        keys = engine.map_state(subject).keys
        if rng.random() < 0.4 and keys:
            (direction, peer), entries = rng.choice(list(keys.items()))
            me = rng.choice(entries)
            peer = peer or rng.choice(local)  # 0 is the wildcard key: any peer
            proto = me.protocol if me.protocol is not Protocol.ANY else Protocol.TCP
            out.append((direction, subject, peer, proto, rng.randint(me.lo, me.hi)))
            continue
        r = rng.random()
        pool = local if r < 0.65 else remote if r < 0.75 else RESERVED_PEERS if r < 0.85 else world
        proto, port = rng.choice(FLOW_PORTS)
        out.append((rng.choice(tuple(Direction)), subject, int(rng.choice(pool)), proto, port))
    return out
