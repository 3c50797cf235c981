"""Translate policy objects into engine rules, as Cilium's agent imports them.

* CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy: every ``spec``/``specs`` rule, with the
  implicit namespace and cluster terms of ``pkg/k8s/apis/cilium.io/utils`` (ref §1.14).
* Kubernetes NetworkPolicy: translated as ``pkg/k8s/network_policy.go`` does (ref §2.13).

Validation happens first (:mod:`cmesh.policy.validate`); translation assumes valid input.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cmesh import model
from cmesh.labels import (
    POD_NAMESPACE_LABEL,
    POD_NAMESPACE_META_LABELS_PREFIX,
    POLICY_LABEL_CLUSTER,
    SOURCE_K8S,
    SOURCE_RESERVED,
    WILDCARD,
    EndpointSelector,
    Labels,
    req_exists,
    req_in,
)
from cmesh.labels.selector import Operator, Requirement
from cmesh.policy.entities import entity_selectors
from cmesh.policy.rule import (
    L7,
    TLS,
    CIDRSelector,
    DNSRule,
    FQDNSelector,
    HTTPRule,
    ICMPType,
    PolicyRule,
    PortProto,
    PortRule,
    RuleElement,
    Selector,
)
from cmesh.policy.types import ALL_PORTS, ANY_L4, Direction, PolicyRef, PortRange, Protocol

AUDIT_ANNOTATION = "policy.cilium.io/audit-mode"

ICMP4_TYPES = {
    "EchoReply": 0,
    "DestinationUnreachable": 3,
    "Redirect": 5,
    "Echo": 8,
    "EchoRequest": 8,
    "RouterAdvertisement": 9,
    "RouterSelection": 10,
    "TimeExceeded": 11,
    "ParameterProblem": 12,
    "Timestamp": 13,
    "TimestampReply": 14,
    "Photuris": 40,
    "ExtendedEchoRequest": 42,
    "ExtendedEchoReply": 43,
}
ICMP6_TYPES = {
    "DestinationUnreachable": 1,
    "PacketTooBig": 2,
    "TimeExceeded": 3,
    "ParameterProblem": 4,
    "EchoRequest": 128,
    "EchoReply": 129,
    "MulticastListenerQuery": 130,
    "MulticastListenerReport": 131,
    "MulticastListenerDone": 132,
    "RouterSolicitation": 133,
    "RouterAdvertisement": 134,
    "NeighborSolicitation": 135,
    "NeighborAdvertisement": 136,
    "RedirectMessage": 137,
    "RouterRenumbering": 138,
    "ICMPNodeInformationQuery": 139,
    "ICMPNodeInformationResponse": 140,
    "InverseNeighborDiscoverySolicitation": 141,
    "InverseNeighborDiscoveryAdvertisement": 142,
    "HomeAgentAddressDiscoveryRequest": 144,
    "HomeAgentAddressDiscoveryReply": 145,
    "MobilePrefixSolicitation": 146,
    "MobilePrefixAdvertisement": 147,
    "DuplicateAddressRequestCodeSuffix": 157,
    "DuplicateAddressConfirmationCodeSuffix": 158,
    "ExtendedEchoRequest": 160,
    "ExtendedEchoReply": 161,
}


@dataclass(frozen=True)
class ServiceRefInfo:
    """What ``toServices`` needs of a Service: its pod selector (``None`` without one)."""

    namespace: str
    name: str
    selector: Mapping[str, str] | None
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CIDRGroupInfo:
    name: str
    labels: Mapping[str, str]
    cidrs: tuple[str, ...]


@dataclass(frozen=True)
class ImportContext:
    """Cluster facts the translation depends on."""

    cluster: str
    default_local_cluster: bool = True
    services: Mapping[tuple[str, str], ServiceRefInfo] = field(default_factory=dict)
    cidr_groups: Mapping[str, CIDRGroupInfo] = field(default_factory=dict)


# -- selectors (ref §1.14) ---------------------------------------------------------------------


def compile_selector(sel: model.EndpointSelector | None) -> EndpointSelector:
    if sel is None:
        return WILDCARD
    exprs = [(r.key, r.operator, tuple(r.values or ())) for r in sel.match_expressions or ()]
    return EndpointSelector.from_match(sel.match_labels or {}, exprs)


def subject_selector(sel: EndpointSelector, namespace: str | None) -> EndpointSelector:
    """A CNP/KNP subject always gets ``k8s:io.kubernetes.pod.namespace=<ns>`` (overriding)."""
    if namespace is None:
        return sel
    return sel.without_key(POD_NAMESPACE_LABEL).add(
        req_in(SOURCE_K8S, POD_NAMESPACE_LABEL, namespace)
    )


def peer_selector(
    sel: EndpointSelector, namespace: str | None, ctx: ImportContext
) -> EndpointSelector:
    """Add the implicit namespace and cluster terms to a peer selector (``getEndpointSelector``).

    ``namespace`` is the policy's namespace, ``None`` for a CCNP.
    """
    if sel.has_source(SOURCE_RESERVED):
        return sel
    out = sel
    if not sel.has_key(POD_NAMESPACE_LABEL):
        if namespace is not None:
            if not sel.has_key_prefix(POD_NAMESPACE_META_LABELS_PREFIX):
                out = out.add(req_in(SOURCE_K8S, POD_NAMESPACE_LABEL, namespace))
        else:
            out = out.add(req_exists(SOURCE_K8S, POD_NAMESPACE_LABEL))
    if ctx.default_local_cluster and not sel.has_key(POLICY_LABEL_CLUSTER):
        out = out.add(req_in(SOURCE_K8S, POLICY_LABEL_CLUSTER, ctx.cluster))
    return out


# -- ports -------------------------------------------------------------------------------------


def port_protos(pp: model.PortProtocol) -> list[PortProto]:
    protos = ANY_L4 if pp.protocol == "ANY" else (Protocol.parse(pp.protocol),)
    if pp.is_named:
        return [PortProto(p, ALL_PORTS, pp.port) for p in protos]
    port = int(pp.port or 0)
    rng = ALL_PORTS if port == 0 else PortRange(port, max(port, pp.end_port or port))
    return [PortProto(p, rng) for p in protos]


def _tls(t: model.TLSContext | None) -> TLS | None:
    if t is None:
        return None
    if t.secret is not None:
        return TLS(t.secret.namespace, t.secret.name)
    return TLS(inline=True)


def _l7(rules: model.L7Rules | None) -> L7 | None:
    if rules is None:
        return None
    if rules.http is not None:
        return L7(
            "http",
            http=tuple(
                HTTPRule(
                    r.method,
                    r.path,
                    r.host,
                    tuple(r.headers or ()),
                    tuple(
                        (
                            h.name,
                            h.value,
                            f"{h.secret.namespace}/{h.secret.name}" if h.secret else "",
                            h.mismatch,
                        )
                        for h in r.header_matches or ()
                    ),
                )
                for r in rules.http
            ),
        )
    if rules.dns is not None:
        return L7("dns", dns=tuple(DNSRule(d.match_name, d.match_pattern) for d in rules.dns))
    if rules.kafka is not None:
        return L7("kafka", other=tuple(rules.kafka))
    if rules.l7proto:
        return L7("generic", other=tuple(rules.l7 or ()))
    return None


def port_rules(
    rules: Sequence[model.PortRule | model.PortDenyRule] | None,
) -> tuple[PortRule, ...] | None:
    if rules is None:
        return None
    out = []
    for r in rules:
        ports: list[PortProto] = []
        for pp in r.ports or [model.PortProtocol(port="0")]:
            ports.extend(port_protos(pp))
        if isinstance(r, model.PortRule):
            out.append(
                PortRule(
                    tuple(ports),
                    _l7(r.rules),
                    tuple(r.server_names or ()),
                    _tls(r.terminating_tls),
                    _tls(r.originating_tls),
                    r.listener.name if r.listener else "",
                )
            )
        else:
            out.append(PortRule(tuple(ports)))
    return tuple(out)


def icmp_types(rules: Sequence[model.ICMPRule] | None) -> tuple[ICMPType, ...] | None:
    if rules is None:
        return None
    out = []
    for r in rules:
        for f in r.fields:
            table = ICMP4_TYPES if f.family == "IPv4" else ICMP6_TYPES
            t = f.type if isinstance(f.type, int) else table[f.type]
            out.append(ICMPType(f.family, t))
    return tuple(out)


# -- peers -------------------------------------------------------------------------------------


def _prefix(text: str) -> str:
    """A CIDR (or bare address) as its canonical network: ``10.1.2.3/8`` → ``10.0.0.0/8``."""
    return str(ipaddress.ip_network(text, strict=False))


def _cidr_rules(rules: Sequence[model.CIDRRule], ctx: ImportContext) -> list[Selector]:
    out: list[Selector] = []
    for r in rules:
        excepts = tuple(_prefix(e) for e in r.except_ or ())
        if r.cidr:
            out.append(CIDRSelector(_prefix(r.cidr), excepts))
        groups: list[CIDRGroupInfo] = []
        if r.cidr_group_ref:
            g = ctx.cidr_groups.get(r.cidr_group_ref)
            if g is not None:
                groups.append(g)
        if r.cidr_group_selector is not None:
            sel = compile_selector(r.cidr_group_selector)
            groups.extend(
                g
                for g in ctx.cidr_groups.values()
                if sel.matches(Labels.from_map(g.labels, SOURCE_K8S))
            )
        for g in groups:
            out.extend(CIDRSelector(_prefix(c), excepts) for c in g.cidrs)
    return out


def _services(
    refs: Sequence[model.ServiceRef] | None, namespace: str | None, ctx: ImportContext
) -> list[Selector]:
    out: list[Selector] = []
    for ref in refs or ():
        svcs: list[ServiceRefInfo] = []
        if ref.k8s_service is not None:
            ns = ref.k8s_service.namespace or namespace or "default"
            s = ctx.services.get((ns, ref.k8s_service.service_name))
            if s is not None:
                svcs.append(s)
        if ref.k8s_service_selector is not None:
            ns = ref.k8s_service_selector.namespace or namespace
            sel = compile_selector(ref.k8s_service_selector.selector)
            svcs.extend(
                s
                for s in ctx.services.values()
                if (ns is None or s.namespace == ns)
                and sel.matches(Labels.from_map(s.labels, SOURCE_K8S))
            )
        for s in svcs:
            if s.selector:
                pod = EndpointSelector.from_match({f"k8s:{k}": v for k, v in s.selector.items()})
                pod = pod.add(req_in(SOURCE_K8S, POD_NAMESPACE_LABEL, s.namespace))
                out.append(pod.add(req_in(SOURCE_K8S, POLICY_LABEL_CLUSTER, ctx.cluster)))
    return out


#: The L3 peer fields of an ingress/egress element (model attribute, YAML name), in the order of
#: Cilium's ``l3Members``: an element has at most one of them (ref §1.3, checked by validation).
INGRESS_PEERS = (
    ("from_endpoints", "fromEndpoints"),
    ("from_cidr", "fromCIDR"),
    ("from_cidr_set", "fromCIDRSet"),
    ("from_entities", "fromEntities"),
    ("from_nodes", "fromNodes"),
    ("from_groups", "fromGroups"),
)
EGRESS_PEERS = (
    ("to_cidr", "toCIDR"),
    ("to_cidr_set", "toCIDRSet"),
    ("to_endpoints", "toEndpoints"),
    ("to_entities", "toEntities"),
    ("to_services", "toServices"),
    ("to_fqdns", "toFQDNs"),
    ("to_groups", "toGroups"),
    ("to_nodes", "toNodes"),
)


def _peers(
    elem: object, direction: Direction, namespace: str | None, ctx: ImportContext
) -> tuple[tuple[Selector, ...] | None, str]:
    fields = INGRESS_PEERS if direction is Direction.INGRESS else EGRESS_PEERS
    for attr, name in fields:
        value = getattr(elem, attr, None)
        if value is None:
            continue
        if attr.endswith("endpoints"):
            return tuple(peer_selector(compile_selector(s), namespace, ctx) for s in value), name
        if attr.endswith("_cidr"):
            return tuple(CIDRSelector(_prefix(c)) for c in value), name
        if attr.endswith("cidr_set"):
            return tuple(_cidr_rules(value, ctx)), name
        if attr.endswith("entities"):
            return tuple(s for e in value for s in entity_selectors(e, ctx.cluster)), name
        if attr == "to_services":
            return tuple(_services(value, namespace, ctx)), name
        if attr == "to_fqdns":
            return tuple(
                FQDNSelector(f.match_name.lower(), f.match_pattern.lower()) for f in value
            ), name
        return (), name  # nodes/groups: not supported (rejected by validation)
    return None, ""


def _element(
    elem: object,
    direction: Direction,
    deny: bool,
    path: str,
    line: int,
    namespace: str | None,
    ctx: ImportContext,
) -> RuleElement:
    peers, kind = _peers(elem, direction, namespace, ctx)
    to_ports = getattr(elem, "to_ports", None)
    icmps = icmp_types(getattr(elem, "icmps", None))
    auth = getattr(elem, "authentication", None)
    empty = peers is None and to_ports is None and icmps is None
    return RuleElement(
        direction=direction,
        deny=deny,
        peers=peers,
        peer_kind=kind,
        port_rules=port_rules(to_ports),
        icmps=icmps,
        auth=auth.mode if auth is not None else "",
        path=path,
        line=line,
        allows_nothing=empty,
    )


def _rule_label_strings(rule: model.Rule) -> tuple[str, ...]:
    return tuple(f"{lb.source or 'unspec'}:{lb.key}={lb.value}" for lb in rule.labels or ())


def cilium_rules(
    obj: model.CiliumNetworkPolicy | model.CiliumClusterwideNetworkPolicy,
) -> list[tuple[tuple[str | int, ...], model.Rule]]:
    """The rules of a CNP or CCNP with their paths: ``spec`` (rule 0 when set), then ``specs``."""
    rules: list[tuple[tuple[str | int, ...], model.Rule]] = []
    if obj.spec is not None:
        rules.append((("spec",), obj.spec))
    rules += [(("specs", i), r) for i, r in enumerate(obj.specs or ())]
    return rules


def import_cilium(res: model.Resource, ctx: ImportContext) -> list[PolicyRule]:
    """The rules of a CNP or CCNP (ref §1.1, §1.14, §2.2)."""
    from cmesh.model import render_path  # not at import: it loads the YAML parser

    obj = res.obj
    assert isinstance(obj, model.CiliumNetworkPolicy | model.CiliumClusterwideNetworkPolicy)
    namespace = res.namespace if res.kind == "CiliumNetworkPolicy" else None
    audit = (obj.metadata.annotations or {}).get(AUDIT_ANNOTATION, "").lower() == "true"
    out: list[PolicyRule] = []
    for idx, (ppath, rule) in enumerate(cilium_rules(obj)):
        elements: list[RuleElement] = []
        for attr, alias, direction, deny in (
            ("ingress", "ingress", Direction.INGRESS, False),
            ("ingress_deny", "ingressDeny", Direction.INGRESS, True),
            ("egress", "egress", Direction.EGRESS, False),
            ("egress_deny", "egressDeny", Direction.EGRESS, True),
        ):
            for i, elem in enumerate(getattr(rule, attr) or ()):
                path = (*ppath, alias, i)
                elements.append(
                    _element(
                        elem, direction, deny, render_path(path), res.line_of(path), namespace, ctx
                    )
                )
        has_in = bool(rule.ingress) or bool(rule.ingress_deny)
        has_eg = bool(rule.egress) or bool(rule.egress_deny)
        dd = rule.enable_default_deny
        dd_in = has_in if dd is None or dd.ingress is None else dd.ingress
        dd_eg = has_eg if dd is None or dd.egress is None else dd.egress
        subject = subject_selector(compile_selector(rule.endpoint_selector), namespace)
        out.append(
            PolicyRule(
                ref=PolicyRef(res.kind, res.namespace, res.name, idx, str(res.source)),
                subject=subject,
                elements=tuple(elements),
                default_deny_ingress=dd_in,
                default_deny_egress=dd_eg,
                audit=audit,
                log=rule.log.value if rule.log else "",
                description=rule.description,
                labels=_rule_label_strings(rule),
            )
        )
    return out


# -- Kubernetes NetworkPolicy (ref §2.13) --------------------------------------------------------


def _knp_selector(sel: model.EndpointSelector | None) -> EndpointSelector:
    """All keys of a KNP selector have source ``k8s``."""
    if sel is None:
        return WILDCARD
    reqs: list[Requirement] = []
    for k, v in (sel.match_labels or {}).items():
        reqs.append(Requirement(k, SOURCE_K8S, Operator.IN, frozenset([v])))
    for r in sel.match_expressions or ():
        reqs.append(Requirement(r.key, SOURCE_K8S, Operator(r.operator), frozenset(r.values or ())))
    return EndpointSelector(tuple(reqs))


def _knp_peer(
    peer: model.networkpolicy.NetworkPolicyPeer, namespace: str, ctx: ImportContext
) -> Selector:
    if peer.ip_block is not None:
        excepts = tuple(_prefix(e) for e in peer.ip_block.except_ or ())
        return CIDRSelector(_prefix(peer.ip_block.cidr), excepts)
    pod = _knp_selector(peer.pod_selector)
    if peer.namespace_selector is not None:
        ns_sel = peer.namespace_selector
        if not ns_sel.match_labels and not ns_sel.match_expressions:
            sel = pod.add(req_exists(SOURCE_K8S, POD_NAMESPACE_LABEL))
        else:
            reqs = [
                Requirement(POD_NAMESPACE_META_LABELS_PREFIX + r.key, SOURCE_K8S, r.op, r.values)
                for r in _knp_selector(ns_sel).requirements
            ]
            sel = pod.add(*reqs)
    else:
        sel = pod.add(req_in(SOURCE_K8S, POD_NAMESPACE_LABEL, namespace))
    if ctx.default_local_cluster and not pod.has_key(POLICY_LABEL_CLUSTER, (SOURCE_K8S,)):
        sel = sel.add(req_in(SOURCE_K8S, POLICY_LABEL_CLUSTER, ctx.cluster))
    return sel


def _knp_ports(
    ports: Sequence[model.networkpolicy.NetworkPolicyPort] | None,
) -> tuple[PortRule, ...] | None:
    if not ports:
        return None
    out: list[PortProto] = []
    for p in ports:
        proto = Protocol.parse(p.protocol or "TCP")
        if p.port is None:
            out.append(PortProto(proto, ALL_PORTS))
        elif isinstance(p.port, str) and not p.port.isdigit():
            out.append(PortProto(proto, ALL_PORTS, p.port.lower()))
        else:
            port = int(p.port)
            out.append(PortProto(proto, PortRange(port, max(port, p.end_port or port))))
    return (PortRule(tuple(out)),)


def import_networkpolicy(res: model.Resource, ctx: ImportContext) -> list[PolicyRule]:
    obj = res.obj
    assert isinstance(obj, model.NetworkPolicy)
    ns = res.namespace
    spec = obj.spec
    # API-server defaulting (SetDefaults_NetworkPolicy, when the list is empty or missing):
    # Ingress always, Egress when egress rules exist.
    types = (
        set(spec.policy_types)
        if spec.policy_types
        else {"Ingress", *(["Egress"] if spec.egress else [])}
    )
    elements: list[RuleElement] = []
    for direction, rules, attr, alias, tname in (
        (Direction.INGRESS, spec.ingress, "from_", "from", "Ingress"),
        (Direction.EGRESS, spec.egress, "to", "to", "Egress"),
    ):
        if tname not in types:
            continue
        sec = "ingress" if direction is Direction.INGRESS else "egress"
        for i, r in enumerate(rules or ()):
            peers_in = getattr(r, attr)
            ports = _knp_ports(r.ports)
            line = res.line_of(("spec", sec, i))
            if not peers_in:
                elements.append(
                    RuleElement(
                        direction, False, None, "", ports, path=f"spec.{sec}[{i}]", line=line
                    )
                )
                continue
            for j, peer in enumerate(peers_in):
                sel = _knp_peer(peer, ns, ctx)
                kind = "ipBlock" if peer.ip_block is not None else "podSelector/namespaceSelector"
                elements.append(
                    RuleElement(
                        direction,
                        False,
                        (sel,),
                        kind,
                        ports,
                        path=f"spec.{sec}[{i}].{alias}[{j}]",
                        line=line,
                    )
                )
        if not rules:
            # The k8s default-deny model in Cilium's terms: an empty rule element (ref §2.3).
            elements.append(
                RuleElement(
                    direction,
                    False,
                    None,
                    "",
                    None,
                    path="spec.policyTypes",
                    line=res.line_of(("spec",)),
                    allows_nothing=True,
                )
            )
    subject = subject_selector(_knp_selector(spec.pod_selector), ns)
    dd_in = any(e.direction is Direction.INGRESS for e in elements)
    dd_eg = any(e.direction is Direction.EGRESS for e in elements)
    return [
        PolicyRule(
            ref=PolicyRef("NetworkPolicy", ns, res.name, 0, str(res.source)),
            subject=subject,
            elements=tuple(elements),
            default_deny_ingress=dd_in,
            default_deny_egress=dd_eg,
        )
    ]


def import_resource(res: model.Resource, ctx: ImportContext) -> list[PolicyRule]:
    if res.kind == "NetworkPolicy":
        return import_networkpolicy(res, ctx)
    if res.kind in ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"):
        return import_cilium(res, ctx)
    return []
