"""Validate policy objects as Cilium (and the Kubernetes API server) would, before import.

Cilium checks each rule in ``Rule.Sanitize`` (``pkg/policy/api/rule_validation.go``, ref §1.2-§1.11)
and rejects the whole object on the first error; cmesh reports *every* error of the object with
its ``file:line`` and field path, and, for constructs that are not Cilium (ref §7), what to write
instead.  An object with any error imports nothing.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Sequence
from typing import Any

from cmesh import model
from cmesh.errors import Diagnostic, Severity
from cmesh.model import render_path
from cmesh.model.ciliuml4 import check_port
from cmesh.policy.entities import ENTITIES
from cmesh.policy.importer import (
    EGRESS_PEERS,
    ICMP4_TYPES,
    ICMP6_TYPES,
    INGRESS_PEERS,
    cilium_rules,
)

Path = tuple[str | int, ...]

FQDN_NAME = re.compile(r"^[-a-zA-Z0-9_.]+$")
FQDN_PATTERN = re.compile(r"^[-a-zA-Z0-9_.*]+$")

REQUIRES_HINT = (
    "fromRequires/toRequires were deprecated in Cilium 1.17 and removed in 1.19 (ref §1.9, §7.2): "
    "the CRD allows no items. Put the required labels into every fromEndpoints/toEndpoints "
    "selector instead (keys in one selector are ANDed), or guard with an ingressDeny using "
    "matchExpressions NotIn; for mutual TLS use `authentication: {mode: required}` on the allow rule"
)


class _V:
    def __init__(self, res: model.Resource) -> None:
        self.res = res
        self.out: list[Diagnostic] = []

    def err(
        self,
        path: Path,
        msg: str,
        hint: str = "",
        code: str = "invalid-policy",
        severity: Severity = Severity.ERROR,
    ) -> None:
        self.out.append(
            Diagnostic(
                msg,
                file=self.res.source.file,
                line=self.res.line_of(path),
                path=render_path(path),
                hint=hint,
                obj=self.res.ref,
                code=code,
                severity=severity,
            )
        )


def validate_policy(res: model.Resource) -> list[Diagnostic]:
    """Every reason Cilium would refuse ``res`` (a CNP, CCNP or NetworkPolicy)."""
    v = _V(res)
    obj = res.obj
    if isinstance(obj, model.NetworkPolicy):
        _knp(v, obj)
    elif isinstance(obj, model.CiliumNetworkPolicy | model.CiliumClusterwideNetworkPolicy):
        _cilium(v, obj, clusterwide=isinstance(obj, model.CiliumClusterwideNetworkPolicy))
    elif isinstance(obj, model.CiliumCIDRGroup):
        for i, c in enumerate(obj.spec.external_cidrs):
            _cidr(v, ("spec", "externalCIDRs", i), c, allow_ip=False)
    return v.out


def _cilium(v: _V, obj: Any, *, clusterwide: bool) -> None:
    if obj.spec is None and obj.specs is None:
        v.err(
            ("spec",), "empty policy: neither spec nor specs is set", "write the rule under `spec:`"
        )
        return
    for path, rule in cilium_rules(obj):
        _rule(v, path, rule, clusterwide)


def _rule(v: _V, path: Path, r: model.Rule, clusterwide: bool) -> None:
    if r.endpoint_selector is None and r.node_selector is None:
        v.err(
            path,
            "rule must have one of EndpointSelector or NodeSelector",
            "add `endpointSelector: {}` to select every endpoint of the namespace",
        )
    if r.endpoint_selector is not None and r.node_selector is not None:
        v.err(
            (*path, "nodeSelector"),
            "rule cannot have both EndpointSelector and NodeSelector",
            "keep endpointSelector to select pods, or nodeSelector to select hosts; write two "
            "rules for both",
        )
    if r.node_selector is not None and not clusterwide:
        v.err(
            (*path, "nodeSelector"),
            "rule cannot have NodeSelector",
            "host policies (nodeSelector) exist only in CiliumClusterwideNetworkPolicy",
        )
    elif r.node_selector is not None:
        v.err(
            (*path, "nodeSelector"),
            "host policies are not simulated by cmesh: this rule selects no endpoint",
            severity=Severity.WARNING,
            code="host-policy",
        )
    for sel_path, sel in (
        ((*path, "endpointSelector"), r.endpoint_selector),
        ((*path, "nodeSelector"), r.node_selector),
    ):
        if sel is not None:
            _selector(v, sel_path, sel)
    if not (r.ingress or r.ingress_deny or r.egress or r.egress_deny):
        v.err(
            path,
            "rule must have at least one of Ingress, IngressDeny, Egress, EgressDeny",
            "an empty list (`ingress: []`) is no rule at all; to put the endpoints into default deny "
            "write one empty element: `ingress: [{}]` (ref §1.2, §2.3)",
        )
    host = r.node_selector is not None
    for attr, alias, ingress, deny in (
        ("ingress", "ingress", True, False),
        ("ingress_deny", "ingressDeny", True, True),
        ("egress", "egress", False, False),
        ("egress_deny", "egressDeny", False, True),
    ):
        for i, elem in enumerate(getattr(r, attr) or ()):
            _element(v, (*path, alias, i), elem, ingress=ingress, deny=deny, host=host)
    for attr, alias in (("ingress", "ingress"), ("egress", "egress")):
        _l7_conflicts(v, (*path, alias), getattr(r, attr) or ())
    if r.log is not None and not r.log.value.isprintable():
        v.err(
            (*path, "log", "value"),
            "log value must be printable",
            "remove control characters (tabs, newlines) from the value",
        )


def _l7_kind(pr: Any) -> str:
    rules = getattr(pr, "rules", None)
    if rules is None:
        return ""
    for k in ("http", "kafka", "dns"):
        if getattr(rules, k) is not None:
            return k
    return str(rules.l7proto or "")


def _l7_conflicts(v: _V, path: Path, elements: Sequence[Any]) -> None:
    """Rules on the same port and protocol with different L7 parsers cannot be merged, whatever
    their peers: Cilium keeps one parser per L4 filter (port/protocol) and rejects the policy
    (``pkg/policy/rule.go`` ``mergePortProto``, ref §2.6)."""
    seen: dict[tuple[str, str], tuple[str, Path]] = {}
    for i, e in enumerate(elements):
        for j, pr in enumerate(getattr(e, "to_ports", None) or ()):
            kind = _l7_kind(pr)
            if not kind:
                continue
            for pp in pr.ports or ():
                protos = ("TCP", "UDP", "SCTP") if pp.protocol == "ANY" else (pp.protocol,)
                for proto in protos:
                    here = (*path, i, "toPorts", j, "rules")
                    prev = seen.setdefault((str(pp.port), proto), (kind, here))
                    if prev[0] != kind:
                        v.err(
                            here,
                            f"cannot merge conflicting L7 parsers ({prev[0]}/{kind}): "
                            f"{render_path(prev[1])} already has {prev[0]} rules on port "
                            f"{pp.port}/{proto}",
                            "one port carries one L7 protocol, whatever the peers: use the "
                            "same rule type on this port, or another port",
                        )
                        return


def _element(v: _V, path: Path, e: Any, *, ingress: bool, deny: bool, host: bool) -> None:
    peers = INGRESS_PEERS if ingress else EGRESS_PEERS
    present = [alias for attr, alias in peers if getattr(e, attr, None)]
    if len(present) > 1:
        v.err(
            (*path, present[1]),
            f"Combining {present[0]} and {present[1]} is not supported yet",
            "split them into two rule elements (elements are ORed)",
        )
    req_attr, req_alias = (
        ("from_requires", "fromRequires") if ingress else ("to_requires", "toRequires")
    )
    if getattr(e, req_attr, None):
        v.err(
            (*path, req_alias),
            f"{req_alias} is not supported in Cilium 1.19: must have at most 0 items",
            REQUIRES_HINT,
            code="removed-field",
        )
    if getattr(e, "from_nodes", None) or getattr(e, "to_nodes", None):
        name = "fromNodes" if ingress else "toNodes"
        v.err(
            (*path, name),
            'FromNodes/ToNodes rules can only be applied when the "enable-node-selector-labels" flag is set',
            "select nodes with the host and remote-node entities instead (ref §1.4)",
        )
    for name in ("from_groups", "to_groups"):
        if getattr(e, name, None):
            v.err(
                (*path, "fromGroups" if ingress else "toGroups"),
                "cloud security groups (AWS) cannot be resolved by cmesh",
                "use toCIDRSet with the group's address ranges",
            )
    to_ports = getattr(e, "to_ports", None)
    if e.icmps and to_ports:
        v.err(
            (*path, "icmps"),
            "The ICMPs block may only be present without ToPorts. Define a separate rule to use ToPorts.",
            "give icmps a rule element of its own, with the same peers (elements are ORed)",
        )
    if not ingress and getattr(e, "to_services", None) and to_ports:
        v.err(
            (*path, "toPorts"),
            "Combining ToServices and ToPorts is not supported yet",
            "allow the service's backend pods with toEndpoints and toPorts",
        )
    for attr in ("from_endpoints", "to_endpoints"):
        for i, sel in enumerate(getattr(e, attr, None) or ()):
            _selector(v, (*path, "fromEndpoints" if ingress else "toEndpoints", i), sel)
    for attr, alias in (("from_cidr", "fromCIDR"), ("to_cidr", "toCIDR")):
        for i, c in enumerate(getattr(e, attr, None) or ()):
            _cidr(v, (*path, alias, i), c, allow_ip=True)
    for attr, alias in (("from_cidr_set", "fromCIDRSet"), ("to_cidr_set", "toCIDRSet")):
        for i, c in enumerate(getattr(e, attr, None) or ()):
            _cidr_rule(v, (*path, alias, i), c)
    for attr, alias in (("from_entities", "fromEntities"), ("to_entities", "toEntities")):
        for i, ent in enumerate(getattr(e, attr, None) or ()):
            if ent not in ENTITIES:
                hint = (
                    "cluster-mesh is a Cilium 1.20 entity; in 1.19 select remote pods with io.cilium.k8s.policy.cluster"
                    if ent == "cluster-mesh"
                    else "entities: " + ", ".join(ENTITIES)
                )
                v.err((*path, alias, i), f"unsupported entity: {ent}", hint)
    for i, f in enumerate(getattr(e, "to_fqdns", None) or ()):
        _fqdn(v, (*path, "toFQDNs", i), f)
    for i, svc in enumerate(getattr(e, "to_services", None) or ()):
        if svc.k8s_service is None and svc.k8s_service_selector is None:
            v.err(
                (*path, "toServices", i),
                "toServices entry needs k8sService or k8sServiceSelector",
                "name the service: `k8sService: {serviceName: NAME, namespace: NS}`",
            )
    for i, pr in enumerate(to_ports or ()):
        _port_rule(v, (*path, "toPorts", i), pr, ingress=ingress, host=host)
    for i, icmp in enumerate(e.icmps or ()):
        for j, f in enumerate(icmp.fields):
            table = ICMP4_TYPES if f.family == "IPv4" else ICMP6_TYPES
            if isinstance(f.type, str) and f.type not in table:
                v.err(
                    (*path, "icmps", i, "fields", j, "type"),
                    f"unknown {f.family} ICMP type {f.type!r}",
                    "use a number 0-255 or a name such as " + ", ".join(list(table)[:4]),
                )


def _port_rule(v: _V, path: Path, pr: Any, *, ingress: bool, host: bool) -> None:
    rules = getattr(pr, "rules", None)
    has_l7 = (
        rules is not None and any(x is not None for x in (rules.http, rules.kafka, rules.dns))
    ) or (rules is not None and bool(rules.l7proto))
    has_dns = rules is not None and bool(rules.dns)
    if ingress and has_dns:
        v.err(
            (*path, "rules", "dns"),
            "DNS rules are not allowed on ingress",
            "DNS rules belong in egress rules towards the DNS server (ref §1.10)",
        )
    if host and has_l7 and not has_dns:
        v.err(
            (*path, "rules"),
            "host policies do not support L7 rules yet",
            "host policies accept only DNS rules at L7 (ref §1.10): drop the rules or select pods",
        )
    server_names = getattr(pr, "server_names", None)
    if server_names and has_l7 and getattr(pr, "terminating_tls", None) is None:
        v.err(
            (*path, "serverNames"),
            "ServerNames are not allowed with L7 rules without TLS termination",
            "add terminatingTLS, or drop the L7 rules",
        )
    for i, sn in enumerate(server_names or ()):
        if not sn:
            v.err(
                (*path, "serverNames", i),
                "Empty server name is not allowed",
                "remove the empty entry, or write the TLS server name (SNI) to allow",
            )
    ports = pr.ports or []
    if not ports and has_dns:
        v.err(
            (*path, "ports"),
            "Port 53 must be specified for DNS rules",
            'add `ports: [{port: "53", protocol: ANY}]`',
        )
    zero = False
    for i, pp in enumerate(ports):
        pp_path = (*path, "ports", i)
        if pp.port == "":
            v.err(
                (*pp_path, "port"),
                "Port must be specified",
                'write a port number or name, or "0" for every port',
            )
            continue
        if not pp.is_named:
            n = int(pp.port)
            zero = zero or n == 0
            if pp.end_port is not None and pp.end_port < n and pp.end_port != 0:
                v.err(
                    (*pp_path, "endPort"),
                    f"endPort {pp.end_port} is lower than port {n}",
                    "endPort is the last port of the range: at least port, or omit it",
                )
            if has_dns and pp.end_port is not None and pp.end_port > n:
                v.err(
                    (*pp_path, "endPort"),
                    "DNS rules do not support port ranges",
                    "drop endPort: name the DNS server's port (53)",
                )
        if pp.protocol in ("VRRP", "IGMP"):
            v.err(
                (*pp_path, "protocol"),
                f"protocol {pp.protocol} needs --enable-extended-ip-protocols, which cmesh does not model",
            )
        if has_l7 and not has_dns and pp.protocol != "TCP":
            v.err(
                (*pp_path, "protocol"),
                f"L7 rules can only apply to TCP (not {pp.protocol}) except for DNS rules",
                "set protocol: TCP on this port",
            )
    listener = getattr(pr, "listener", None)
    if listener is not None:
        if ingress:
            v.err(
                (*path, "listener"),
                f"Listener is not allowed on ingress ({listener.name})",
                "listeners redirect egress traffic only: move it to an egress rule",
            )
        if has_l7:
            v.err(
                (*path, "listener"),
                f"Listener is not allowed with L7 rules ({listener.name})",
                "use either the listener or the L7 rules on this port",
            )
    if has_l7:
        if zero:
            v.err(
                (*path, "ports"),
                "L7 rules can not be used when a port is 0",
                "name the port the L7 protocol runs on",
            )
        kinds = [k for k in ("http", "kafka", "dns") if getattr(rules, k) is not None] + (
            ["l7proto"] if rules.l7proto else []
        )
        if len(kinds) > 1:
            v.err(
                (*path, "rules"),
                "multiple L7 protocol rule types specified in single rule",
                "one toPorts entry carries one L7 protocol",
            )
        if rules.l7 is not None and not rules.l7proto:
            v.err(
                (*path, "rules", "l7"),
                "'l7' may only be specified when a 'l7proto' is also specified",
                "add `l7proto: <parser>`, or write http or dns rules instead",
            )
        for i, h in enumerate(rules.http or ()):
            _http(v, (*path, "rules", "http", i), h)
        for i, d in enumerate(rules.dns or ()):
            _fqdn(v, (*path, "rules", "dns", i), d)


def _http(v: _V, path: Path, h: model.PortRuleHTTP) -> None:
    from cmesh.l7.regex import compile_re2

    for field, value in (("path", h.path), ("method", h.method), ("host", h.host)):
        if value:
            err = compile_re2(value)[1]
            if err:
                v.err(
                    (*path, field),
                    f"invalid regular expression {value!r}: {err}",
                    "HTTP fields are RE2 regular expressions matched against the whole value (ref §2.7)",
                )
    if h.path and not h.path.startswith("/"):
        v.err(
            (*path, "path"),
            f"path {h.path!r} must begin with '/'",
            "paths are matched against the whole :path; write e.g. /api/.*",
        )
    for i, hm in enumerate(h.header_matches or ()):
        if not hm.name:
            v.err(
                (*path, "headerMatches", i, "name"),
                "headerMatches entries need a name",
                "write the header to match: `{name: X-Token, value: ...}`",
            )


def _fqdn(v: _V, path: Path, f: model.FQDNSelector) -> None:
    if bool(f.match_name) == bool(f.match_pattern):
        v.err(
            path,
            "exactly one of matchName or matchPattern must be set",
            "matchName for one name, matchPattern for a wildcard such as *.example.com",
        )
        return
    if f.match_name and not FQDN_NAME.match(f.match_name):
        v.err(
            (*path, "matchName"),
            f"invalid matchName {f.match_name!r}: only [-a-zA-Z0-9_.] allowed",
            "use matchPattern for wildcards",
        )
    if f.match_pattern and not FQDN_PATTERN.match(f.match_pattern):
        v.err(
            (*path, "matchPattern"),
            f"invalid matchPattern {f.match_pattern!r}: only [-a-zA-Z0-9_.*] allowed",
            "write a DNS name where * stands for part of a label, e.g. *.example.com",
        )


def _selector(v: _V, path: Path, sel: model.EndpointSelector) -> None:
    for k in sel.match_labels or {}:
        if not k:
            v.err(
                (*path, "matchLabels"),
                "empty label key",
                "write the label's key, e.g. `app: web`; `{}` selects every endpoint",
            )


def _cidr(v: _V, path: Path, text: str, *, allow_ip: bool) -> None:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        v.err(
            path,
            f"unable to parse CIDR {text!r}",
            "write a prefix such as 10.0.0.0/8 or 192.0.2.1/32",
        )
        return
    if "/" not in text and not allow_ip:
        v.err(path, f"{text!r} is an address, not a CIDR prefix", f"write {text}/32")


def _cidr_rule(v: _V, path: Path, c: model.CIDRRule) -> None:
    given = [x for x in (c.cidr, c.cidr_group_ref, c.cidr_group_selector) if x]
    if len(given) != 1:
        v.err(
            path,
            "exactly one of cidr, cidrGroupRef or cidrGroupSelector must be set",
            "write one per toCIDRSet/fromCIDRSet entry (entries are ORed)",
        )
        return
    if not c.cidr:
        return
    try:
        net = ipaddress.ip_network(c.cidr, strict=False)
    except ValueError:
        v.err(
            (*path, "cidr"),
            f'Unable to parse CIDRRule "{c.cidr}"',
            "write a prefix such as 10.0.0.0/8",
        )
        return
    if "/" not in c.cidr:
        v.err((*path, "cidr"), f'Unable to parse CIDRRule "{c.cidr}": no "/"', f"write {c.cidr}/32")
    for i, e in enumerate(c.except_ or ()):
        try:
            ex = ipaddress.ip_network(e, strict=False)
        except ValueError:
            v.err(
                (*path, "except", i),
                f"unable to parse except CIDR {e!r}",
                "write a prefix inside the cidr, such as 10.1.0.0/16",
            )
            continue
        if ex.version != net.version or ex.network_address not in net:
            v.err(
                (*path, "except", i),
                f"allow CIDR prefix {c.cidr} does not contain exclude CIDR prefix {e}",
                "an except must lie inside its own cidr (ref §1.5)",
            )


def _knp(v: _V, np: model.NetworkPolicy) -> None:
    spec = np.spec
    for direction, rules, peers_attr, peers_alias in (
        ("ingress", spec.ingress, "from_", "from"),
        ("egress", spec.egress, "to", "to"),
    ):
        for i, r in enumerate(rules or ()):
            for j, peer in enumerate(getattr(r, peers_attr) or ()):
                pp: Path = ("spec", direction, i, peers_alias, j)
                if (
                    peer.ip_block is None
                    and peer.pod_selector is None
                    and peer.namespace_selector is None
                ):
                    v.err(
                        pp,
                        "must specify a peer (podSelector, namespaceSelector or ipBlock)",
                        f"an empty peer is not allowed; omit `{peers_alias}` to allow every peer",
                    )
                if peer.ip_block is not None and (
                    peer.pod_selector is not None or peer.namespace_selector is not None
                ):
                    v.err(
                        pp,
                        "may not specify more than 1 peer type when ipBlock is set",
                        "put the ipBlock in a peer entry of its own (peers are ORed)",
                    )
                if peer.ip_block is not None:
                    _cidr_rule(
                        v,
                        (*pp, "ipBlock"),
                        model.CIDRRule(
                            cidr=peer.ip_block.cidr, **{"except": peer.ip_block.except_}
                        ),
                    )
            for j, port in enumerate(r.ports or ()):
                pth: Path = ("spec", direction, i, "ports", j)
                if isinstance(port.port, int) and not 1 <= port.port <= 65535:
                    v.err(
                        (*pth, "port"),
                        f"port {port.port} must be between 1 and 65535",
                        "omit port to allow every port",
                    )
                if isinstance(port.port, str):
                    try:
                        check_port(port.port)
                    except ValueError as exc:
                        v.err((*pth, "port"), str(exc))
                if port.end_port is not None:
                    if not isinstance(port.port, int):
                        v.err(
                            (*pth, "endPort"),
                            "endPort may only be specified with a numeric port",
                            "drop endPort, or write the port's number",
                        )
                    elif port.end_port < port.port:
                        v.err(
                            (*pth, "endPort"),
                            f"endPort {port.end_port} must be greater than or equal to port {port.port}",
                        )


def validate_all(resources: Sequence[model.Resource]) -> Iterator[Diagnostic]:
    for r in resources:
        if r.info.policy:
            yield from validate_policy(r)
