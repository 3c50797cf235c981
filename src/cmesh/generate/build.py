"""Write one CiliumNetworkPolicy per observed workload (ref §1.2-§1.10).

Each policy selects its workload and lists, per direction, one rule element per peer kind and
port set: the peers (``toEndpoints``/``fromEndpoints``, ``*Entities``, ``*CIDR``, ``toFQDNs``)
that used exactly the same ports share an element, so the policy stays short without allowing
more.  A direction the workload was never seen using gets the empty element (``ingress: [{}]``),
Cilium's own default-deny idiom (ref §2.3): least privilege means what was not seen is denied.

L7 (``--l7``): HTTP rules on the ports where requests were recorded, on the server's ingress
(or the client's egress when the server is outside the mesh); DNS rules on the DNS ports with
the names queried.  ``toFQDNs`` works only through the DNS proxy (ref §1.7, §2.11), so any
workload with an FQDN peer gets a DNS rule for those names even without ``--l7`` — the names
observed, or ``matchPattern: "*"`` when no query was recorded.

Generated policies carry ``policy.cilium.io/audit-mode: "true"`` unless ``enforce``: they go in
audited first (ref §2.12) and are promoted with ``cmesh policy promote``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cmesh.generate.observe import PeerSpec, PeerTraffic, Subject
from cmesh.generate.shapes import NAMESPACE_KEY, chunks, http_rules, policy_name, port_entries
from cmesh.policy.importer import AUDIT_ANNOTATION

MANAGED_BY = "app.kubernetes.io/managed-by"
GENERATOR = "cmesh-policy-generate"
KUBE_DNS = PeerSpec("endpoints", ((NAMESPACE_KEY, "kube-system"), ("k8s-app", "kube-dns")))
DNS_PROTOCOLS = ("UDP", "TCP")

PolicyDoc = dict[str, Any]


def _peer_field(spec: PeerSpec, specs: list[PeerSpec], ingress: bool) -> dict[str, Any]:
    pre = "from" if ingress else "to"
    if spec.kind == "endpoints":
        return {f"{pre}Endpoints": [{"matchLabels": s.labels} for s in specs]}
    if spec.kind == "entity":
        return {f"{pre}Entities": sorted({s.value[0] for s in specs})}  # type: ignore[misc]
    if spec.kind == "cidr":
        return {f"{pre}CIDR": sorted({s.value[0] for s in specs})}  # type: ignore[misc]
    names = sorted({n for s in specs for n in s.value})  # type: ignore[misc]
    return {"toFQDNs": [{"matchName": n} for n in names]}


def _port_rules(t: PeerTraffic, l7: bool) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    l7_ports: set[tuple[str, int]] = set()
    if l7:
        for (proto, port), reqs in sorted(t.http.items()):
            l7_ports.add((proto, port))
            rules.append(
                {
                    "ports": [{"port": str(port), "protocol": proto}],
                    "rules": {"http": http_rules(reqs)},
                }
            )
    for (proto, port), names in sorted(t.dns.items()):
        if (proto, port) in l7_ports:
            continue
        l7_ports.add((proto, port))
        if "*" in names or not l7:
            dns: list[dict[str, str]] = [{"matchPattern": "*"}]
        else:
            dns = [{"matchName": n} for n in sorted({n.rstrip(".") for n in names})]
        rules.append({"ports": [{"port": str(port), "protocol": proto}], "rules": {"dns": dns}})
    plain: list[dict[str, object]] = []
    for proto in ("TCP", "UDP", "SCTP"):
        ports = {p for p in t.ports.get(proto, ()) if (proto, p) not in l7_ports}
        plain += port_entries(ports, proto)
    if plain:
        rules += [{"ports": chunk} for chunk in chunks(plain)]
    return rules


def _signature(t: PeerTraffic, l7: bool) -> str:
    return repr((_port_rules(t, l7), sorted((f, sorted(v)) for f, v in t.icmp.items())))


def _elements(
    side: dict[PeerSpec, PeerTraffic], *, ingress: bool, l7: bool
) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[PeerSpec]] = {}
    traffic: dict[tuple[str, str], PeerTraffic] = {}
    for spec in sorted(side):
        t = side[spec]
        key = (spec.kind, _signature(t, l7))
        groups.setdefault(key, []).append(spec)
        traffic[key] = t
    out: list[dict[str, Any]] = []
    for key in sorted(groups, key=lambda k: (k[0], repr(groups[k]))):
        specs, t = groups[key], traffic[key]
        peer = _peer_field(specs[0], specs, ingress)
        rules = _port_rules(t, l7)
        if rules:
            out.append({**peer, "toPorts": rules})
        if t.icmp:
            fields = [
                {"family": fam, "type": typ}
                for fam, types in sorted(t.icmp.items())
                for typ in sorted(types)
            ]
            out.append({**peer, "icmps": [{"fields": fields}]})
    return out


def _ensure_dns(s: Subject, l7: bool) -> None:
    """An FQDN peer needs the DNS proxy to see the lookups (ref §2.11): add a DNS rule."""
    fqdns = sorted({n for spec in s.egress if spec.kind == "fqdn" for n in spec.value})  # type: ignore[misc]
    if not fqdns:
        return
    dns_peers = [
        p for p, t in s.egress.items() if any(port == 53 for ps in t.ports.values() for port in ps)
    ]
    for peer in dns_peers or [KUBE_DNS]:
        t = s.traffic("egress", peer)
        for proto in DNS_PROTOCOLS:
            if peer is KUBE_DNS or 53 in t.ports.get(proto, set()):
                t.ports.setdefault(proto, set()).add(53)
                recorded = t.dns.get((proto, 53))
                # recorded queries already hold the FQDNs; with none recorded, allow any name
                t.dns[(proto, 53)] = recorded | set(fqdns) if l7 and recorded else {"*"}


def build_policy(
    s: Subject, *, l7: bool, enforce: bool, name: str | None = None, source: str = ""
) -> PolicyDoc:
    """The CiliumNetworkPolicy of one subject (see the module doc)."""
    _ensure_dns(s, l7)
    meta: dict[str, Any] = {
        "name": name or policy_name(s.name, "generated"),
        "namespace": s.namespace,
        "labels": {MANAGED_BY: GENERATOR},
    }
    if not enforce:
        meta["annotations"] = {AUDIT_ANNOTATION: "true"}
    ingress = _elements(s.ingress, ingress=True, l7=l7) or [{}]
    egress = _elements(s.egress, ingress=False, l7=l7) or [{}]
    what = f"workload {s.name}" if s.selector else f"namespace {s.namespace}"
    desc = f"Generated by cmesh policy generate for {what} in {s.cluster} from {s.flows} flows"
    if source:
        desc += f" of {source}"
    return {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": meta,
        "spec": {
            "description": desc,
            "endpointSelector": {"matchLabels": s.selector} if s.selector else {},
            "ingress": ingress,
            "egress": egress,
        },
    }


def build_all(
    subjects: Iterable[Subject], *, l7: bool, enforce: bool, source: str = ""
) -> dict[str, list[PolicyDoc]]:
    """Every subject's policy, per cluster, with names unique per namespace."""
    out: dict[str, list[PolicyDoc]] = {}
    taken: set[tuple[str, str, str]] = set()
    for s in sorted(subjects, key=lambda s: (s.cluster, s.namespace, s.name, sorted(s.identities))):
        base = policy_name(s.name, "generated")
        name, n = base, 2
        while (s.cluster, s.namespace, name) in taken:
            name, n = f"{base}-{n}", n + 1
        taken.add((s.cluster, s.namespace, name))
        out.setdefault(s.cluster, []).append(
            build_policy(s, l7=l7, enforce=enforce, name=name, source=source)
        )
    return out
