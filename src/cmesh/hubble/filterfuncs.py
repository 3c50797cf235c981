"""The per-field predicates of a FlowFilter, one per ``pkg/hubble/filters/*.go`` file (ref §4.5).

Each builder validates its values (raising :class:`~cmesh.errors.InvalidArgument` with the
message Hubble's server returns) and returns a predicate on a :class:`Flow`.  Regular
expressions are RE2 (google-re2), as Go's ``regexp`` is; Go's ``MatchString`` searches, so
``search`` is used unless the pattern is anchored by construction.

Matching details worth knowing:

* pod/service ``[namespace/]<prefix>``: no namespace means ``default``; ``ns/`` is the whole
  namespace (``k8s.go``, ``pkg/hubble/k8s.ParseNamespaceName``); a leading ``/`` (what
  ``--all-namespaces`` produces) means any namespace, but only for endpoints that have one;
* FQDN patterns (``*.cilium.io``) and node-name patterns (``cluster/node*``) compile to one
  anchored regex; ``*`` spans ``[-.0-9a-z]``; a node name without a cluster is read as
  ``default/<node>`` (``patterns.go``, ``nodename.go``);
* ``--reply``: an unknown ``is_reply`` counts as "not a reply" only on DROPPED flows
  (``reply.go``); ``--drop-reason-desc`` only matches DROPPED flows;
* HTTP and DNS filters are in :mod:`cmesh.hubble.l7filters`;
* ``--tcp-flags syn,ack`` matches flows that have at least those flags (``tcp.go``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from typing import Any

from cmesh.errors import InvalidArgument
from cmesh.hubble.enums import IPVersion, Verdict
from cmesh.hubble.filters import EventTypeFilter, FlowFilter, Predicate
from cmesh.hubble.flow import (
    DNS,
    HTTP,
    SCTP,
    TCP,
    UDP,
    Endpoint,
    Flow,
    ICMPv4,
    ICMPv6,
    NetworkInterface,
    Service,
    TCPFlags,
    Workload,
)
from cmesh.hubble.l7filters import compile_re, l7_predicates
from cmesh.hubble.labelselector import matches_any, parse_label_selector
from cmesh.hubble.summary import go_quote

DEFAULT_CLUSTER_NAME = "default"  # ciliumDefaults.ClusterName

_FQDN_RE = r"(?:[-0-9_a-z]+(?:\.[-0-9_a-z]+)*)"


def _fail(message: str, hint: str = "") -> InvalidArgument:
    return InvalidArgument(message, hint=hint)


# -- endpoints and names ------------------------------------------------------------------


def parse_namespace_name(text: str) -> tuple[str, str]:
    """``pkg/hubble/k8s.ParseNamespaceName``: ``ns/name``, ``name`` (in ``default``), ``ns/``."""
    parts = text.split("/")
    if len(parts) > 1:
        return parts[0], parts[1]
    if not parts[0]:
        return "", ""
    return "default", parts[0]


def _by_namespaced_name(
    names: Sequence[str], get: Callable[[Flow], tuple[str, str]], what: str
) -> Predicate:
    parsed = []
    for name in names:
        ns, prefix = parse_namespace_name(name)
        anyns = name.startswith("/")  # "-A": namespace "" added by the flag parser
        if not ns and not prefix and not anyns:
            raise _fail(f"{what}invalid filter, must be [namespace/][<name>], got {go_quote(name)}")
        parsed.append((ns, prefix, anyns))

    def check(flow: Flow) -> bool:
        event_ns, event_name = get(flow)
        if not event_ns and not event_name:
            return False
        return any(
            (bool(event_ns) if anyns else ns == event_ns)
            and (not prefix or event_name.startswith(prefix))
            for ns, prefix, anyns in parsed
        )

    return check


def _pod(ep: Endpoint | None) -> tuple[str, str]:
    return (ep.namespace, ep.pod_name) if ep else ("", "")


def _by_ips(ips: Sequence[str], get: Callable[[Flow], str]) -> Predicate:
    exact: set[str] = set()
    nets = []
    for ip in ips:
        if "/" in ip:
            try:
                nets.append(ipaddress.ip_network(ip, strict=False))
            except ValueError:
                raise _fail(f"invalid CIDR in filter: {go_quote(ip)}") from None
        else:
            try:
                ipaddress.ip_address(ip)
            except ValueError:
                raise _fail(f"invalid IP address in filter: {go_quote(ip)}") from None
            exact.add(ip)

    def check(flow: Flow) -> bool:
        event_ip = get(flow)
        if not event_ip:
            return False
        if event_ip in exact:
            return True
        try:
            addr = ipaddress.ip_address(event_ip)
        except ValueError:
            return False
        return any(addr in net for net in nets)

    return check


def _fqdn_regex(pattern: str) -> str:
    """``appendFQDNPatternRegexp``: lower-case, one trailing dot dropped, ``*`` → ``[-.0-9a-z]*``."""
    p = pattern.strip().removesuffix(".").lower()
    if not p:
        raise _fail("empty pattern")
    if p.endswith("."):
        raise _fail("multiple trailing dots in pattern")
    out = []
    for ch in p:
        if ch == ".":
            out.append(r"\.")
        elif ch == "*":
            out.append("[-.0-9a-z]*")
        elif ch == "-" or ch == "_" or ch.isdigit() or "a" <= ch <= "z":
            out.append(ch)
        else:
            raise _fail(f"'{ch}': invalid rune in pattern")
    return "".join(out)


def _node_regex(pattern: str) -> str:
    if not pattern:
        raise _fail("empty pattern")
    elems = pattern.split("/")
    if len(elems) > 2:
        raise _fail("too many slashes in pattern")
    cluster, node = ("", elems[0]) if len(elems) == 1 else (elems[0], elems[1])
    cluster_re = _fqdn_regex(cluster) if cluster else _FQDN_RE
    node_re = _fqdn_regex(node) if node else _FQDN_RE
    return f"{cluster_re}/{node_re}"


def _anchored(patterns: Sequence[str], to_regex: Callable[[str], str], what: str, hint: str) -> Any:
    """One anchored regex ORing ``patterns``; a bad one is named with its filter (``what``)."""
    parts = []
    for pattern in patterns:
        try:
            parts.append(to_regex(pattern))
        except InvalidArgument as exc:
            raise _fail(f"invalid {what} filter {go_quote(pattern)}: {exc.message}", hint) from None
    return compile_re(r"\A(?:" + "|".join(parts) + r")\z", "invalid pattern")


_FQDN_HINT = "write a DNS name; '*' matches any run of name characters, e.g. *.cilium.io"


def _by_fqdns(
    patterns: Sequence[str], get: Callable[[Flow], Sequence[str]], what: str
) -> Predicate:
    regex = _anchored(patterns, _fqdn_regex, f"{what} fqdn", _FQDN_HINT)
    return lambda flow: any(regex.search(n) for n in get(flow))


def _by_node_names(patterns: Sequence[str]) -> Predicate:
    hint = "write [cluster/]node, each part a name pattern, e.g. cluster-1/* or k8s*"
    regex = _anchored(patterns, _node_regex, "node name", hint)

    def check(flow: Flow) -> bool:
        name = flow.node_name
        if not name:
            return False
        if "/" not in name:
            name = f"{DEFAULT_CLUSTER_NAME}/{name}"
        return regex.search(name) is not None

    return check


def _by_labels(
    selectors: Sequence[str], get: Callable[[Flow], Any], what: str, legacy_keys: bool
) -> Predicate:
    try:
        parsed = [parse_label_selector(s, legacy_keys=legacy_keys) for s in selectors]
    except InvalidArgument as exc:
        raise _fail(f"invalid {what} label filter: {exc.message}", exc.hint) from None
    return lambda flow: matches_any(parsed, get(flow))


def _by_workloads(wanted: Sequence[Workload], ep: Callable[[Flow], Endpoint | None]) -> Predicate:
    def check(flow: Flow) -> bool:
        endpoint = ep(flow)
        return any(
            (not f.name or f.name == w.name) and (not f.kind or f.kind == w.kind)
            for w in (endpoint.workloads if endpoint else ())
            for f in wanted
        )

    return check


# -- L4 ----------------------------------------------------------------------------------

_L4_PROTOCOLS = {"icmp", "icmpv4", "icmpv6", "tcp", "udp", "sctp"}
_L7_PROTOCOLS = {"dns", "http", "kafka"}


def _by_protocols(protocols: Sequence[str]) -> Predicate:
    wanted = set()
    for p in protocols:
        name = p.lower()
        if name not in _L4_PROTOCOLS | _L7_PROTOCOLS:
            raise _fail(
                f"invalid protocol filter: unknown protocol: {go_quote(p)}",
                "one of " + ", ".join(sorted(_L4_PROTOCOLS | _L7_PROTOCOLS)),
            )
        wanted.add(name)

    def check(flow: Flow) -> bool:
        l4, l7 = flow.l4, flow.l7
        have = {
            "tcp": isinstance(l4, TCP),
            "udp": isinstance(l4, UDP),
            "sctp": isinstance(l4, SCTP),
            "icmpv4": isinstance(l4, ICMPv4),
            "icmpv6": isinstance(l4, ICMPv6),
            "icmp": isinstance(l4, ICMPv4 | ICMPv6),
            "dns": l7 is not None and isinstance(l7.record, DNS),
            "http": l7 is not None and isinstance(l7.record, HTTP),
            "kafka": False,
        }
        return any(have[p] for p in wanted)

    return check


def _by_ports(ports: Sequence[str], index: int, what: str) -> Predicate:
    wanted = set()
    for p in ports:
        if not p.isdigit() or int(p) > 65535:
            raise _fail(f"invalid {what} port filter: invalid port {go_quote(p)}")
        wanted.add(int(p))

    def check(flow: Flow) -> bool:
        ports_ = flow.ports
        return ports_ is not None and ports_[index] in wanted

    return check


def _by_tcp_flags(wanted: Sequence[TCPFlags]) -> Predicate:
    def check(flow: Flow) -> bool:
        flags = flow.l4.flags if isinstance(flow.l4, TCP) else None
        if flags is None:
            return False
        have = set(flags.set_names())
        return any(set(f.set_names()) <= have for f in wanted)

    return check


# -- everything else -----------------------------------------------------------------------


def _by_event_types(types: Sequence[EventTypeFilter]) -> Predicate:
    def check(flow: Flow) -> bool:
        event = flow.event_type
        if event is None:
            return False
        return any(
            (not t.type or t.type == event.type)
            and (not t.match_sub_type or t.sub_type == event.sub_type)
            for t in types
        )

    return check


def _by_reply(wanted: Sequence[bool]) -> Predicate:
    def check(flow: Flow) -> bool:
        if flow.is_reply is None and flow.verdict is not Verdict.DROPPED:
            return False
        return bool(flow.is_reply) in wanted

    return check


def _by_interfaces(wanted: Sequence[NetworkInterface]) -> Predicate:
    def check(flow: Flow) -> bool:
        iface = flow.interface
        return iface is not None and any(
            (not w.index or w.index == iface.index) and (not w.name or w.name == iface.name)
            for w in wanted
        )

    return check


def _member(get: Callable[[Flow], object], wanted: Sequence[object]) -> Predicate:
    return lambda flow: get(flow) in wanted


def _ep_field(ep: Callable[[Flow], Endpoint | None], attr: str) -> Callable[[Flow], object]:
    return lambda flow: getattr(e, attr) if (e := ep(flow)) is not None else None


def _src(flow: Flow) -> Endpoint | None:
    return flow.source


def _dst(flow: Flow) -> Endpoint | None:
    return flow.destination


def _svc(service: Service | None) -> tuple[str, str]:
    return (service.namespace, service.name) if service else ("", "")


def _ip(attr: str) -> Callable[[Flow], str]:
    return lambda flow: getattr(flow.IP, attr) if flow.IP is not None else ""


def _cluster(names: Sequence[str], ep: Callable[[Flow], Endpoint | None], what: str) -> Predicate:
    if "" in names:
        raise _fail(
            f"invalid {what} cluster filter, name must not be empty",
            "give a cluster name, e.g. --cluster cluster-1",
        )
    return _member(_ep_field(ep, "cluster_name"), names)


Builder = Callable[[Sequence[Any]], Predicate]

#: FlowFilter field → predicate builder (the ``DefaultFilters`` of ``filters.go``).
_BUILDERS: tuple[tuple[str, Builder], ...] = (
    ("uuid", lambda v: _member(lambda f: f.uuid, v)),
    ("event_type", _by_event_types),
    ("verdict", lambda v: _member(lambda f: f.verdict, v)),
    (
        "drop_reason_desc",
        lambda v: _member(
            lambda f: f.drop_reason_desc if f.verdict is Verdict.DROPPED else None, v
        ),
    ),
    ("reply", _by_reply),
    ("source_identity", lambda v: _member(_ep_field(_src, "identity"), v)),
    ("destination_identity", lambda v: _member(_ep_field(_dst, "identity"), v)),
    ("protocol", _by_protocols),
    ("source_ip", lambda v: _by_ips(v, _ip("source"))),
    ("source_ip_xlated", lambda v: _by_ips(v, _ip("source_xlated"))),
    ("destination_ip", lambda v: _by_ips(v, _ip("destination"))),
    ("source_pod", lambda v: _by_namespaced_name(v, lambda f: _pod(f.source), "")),
    ("destination_pod", lambda v: _by_namespaced_name(v, lambda f: _pod(f.destination), "")),
    ("source_workload", lambda v: _by_workloads(v, _src)),
    ("destination_workload", lambda v: _by_workloads(v, _dst)),
    (
        "source_service",
        lambda v: _by_namespaced_name(
            v, lambda f: _svc(f.source_service), "invalid source service filter: "
        ),
    ),
    (
        "destination_service",
        lambda v: _by_namespaced_name(
            v, lambda f: _svc(f.destination_service), "invalid destination service filter: "
        ),
    ),
    ("source_fqdn", lambda v: _by_fqdns(v, lambda f: f.source_names, "source")),
    ("destination_fqdn", lambda v: _by_fqdns(v, lambda f: f.destination_names, "destination")),
    ("source_port", lambda v: _by_ports(v, 0, "source")),
    ("destination_port", lambda v: _by_ports(v, 1, "destination")),
    ("tcp_flags", _by_tcp_flags),
    ("node_name", _by_node_names),
    ("ip_version", lambda v: _member(lambda f: f.IP.ipVersion if f.IP else IPVersion(0), v)),
    ("traffic_direction", lambda v: _member(lambda f: f.traffic_direction, v)),
    ("source_cluster_name", lambda v: _cluster(v, _src, "source")),
    ("destination_cluster_name", lambda v: _cluster(v, _dst, "destination")),
    ("encrypted", lambda v: _member(lambda f: f.IP is not None and f.IP.encrypted, v)),
    ("interface", _by_interfaces),
)


def build_predicates(ff: FlowFilter, *, legacy_label_keys: bool = True) -> list[Predicate]:
    """One predicate per set field of ``ff``; HTTP and DNS ones come from :mod:`.l7filters`.

    ``legacy_label_keys`` selects how a source-less dotted key in ``--label`` selectors is
    read (see :mod:`cmesh.hubble.labelselector`); ``--node-label`` arrived with the newer
    translation and always reads such a key as any-source.
    """
    predicates = [build(getattr(ff, name)) for name, build in _BUILDERS if getattr(ff, name)]
    labels: tuple[tuple[str, Callable[[Flow], Any], str, bool], ...] = (
        ("source_label", _ep_field(_src, "labels"), "source", legacy_label_keys),
        ("destination_label", _ep_field(_dst, "labels"), "destination", legacy_label_keys),
        ("node_labels", lambda f: f.node_labels, "node", False),
    )
    for name, get, what, legacy in labels:
        if values := getattr(ff, name):
            predicates.append(_by_labels(values, lambda f, g=get: g(f) or (), what, legacy))
    return predicates + l7_predicates(ff)
