"""``hubble observe`` filter flags, in command-line order, to white- and blacklists (ref §4.5).

Mirrors ``hubble/cmd/observe/flows_filter.go`` (the cilium/cilium copy with ``--cluster``):

* ``--from-X`` / ``--to-X`` set the source or destination field of the filter;
* the plain ``--X`` builds two filters ORed: *left* has source=X, *right* destination=X (they
  collapse to one when equal, e.g. when only ``--verdict`` was given);
* repeating a flag appends a value, and values of one field are ORed;
* ``--not`` sends the *next* flag to the blacklist (two ``--not`` in a row, or a trailing one,
  are errors); white- and blacklist each have their own set of used flags;
* flags of one :data:`CONFLICTS` group may not be combined: the first used flag of the group
  (in group order) is reported with the next one, ``filters --X and --Y cannot be combined``;
* namespaces (``-n``, ``--from-namespace``, ``--to-namespace``, ``-A``) are applied last, as
  ``ns/`` prefixes of the pod and service filters.

>>> white, black = parse_filters([("--verdict", "DROPPED"), ("--not", None), ("--to-label", "app=db")])
>>> white
(FlowFilter(verdict=[<Verdict.DROPPED: 2>]),)
>>> black
(FlowFilter(destination_label=['app=db']),)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cmesh.errors import InvalidArgument
from cmesh.hubble.enums import (
    IPVersion,
)
from cmesh.hubble.filters import FlowFilter
from cmesh.hubble.flagvalues import (
    direction,
    drop_reason,
    event_type,
    http_header,
    identity,
    ip_version,
    tcp_flags,
    verdict,
    workload,
)
from cmesh.hubble.flow import NetworkInterface

#: ``newFlowFilter().conflicts``, in Hubble's order (it decides which pair is reported).
#: Hubble's one-flag groups (``verdict``, ``type``, ...) can never conflict and are left out.
CONFLICTS: tuple[tuple[str, ...], ...] = tuple(
    tuple(group.split())
    for group in (
        "from-fqdn from-ip ip fqdn from-namespace namespace from-all-namespaces all-namespaces",
        "from-fqdn from-ip ip fqdn from-pod pod",
        "to-fqdn to-ip ip fqdn to-namespace namespace to-all-namespaces all-namespaces",
        "to-fqdn to-ip ip fqdn to-pod pod",
        "to-pod namespace all-namespaces",
        "from-pod namespace all-namespaces",
        "to-service namespace all-namespaces",
        "from-service namespace all-namespaces",
        "label from-label",
        "label to-label",
        "service from-service",
        "service to-service",
        "port to-port",
        "port from-port",
        "identity to-identity",
        "identity from-identity",
        "workload to-workload",
        "workload from-workload",
        "encrypted unencrypted",
    )
)

#: Short flags of ``hubble observe`` that are filters.
SHORT_FLAGS = {"-l": "label", "-n": "namespace", "-A": "all-namespaces", "-t": "type"}
SHORT_FLAGS |= {"-4": "ipv4", "-6": "ipv6"}

#: Filter flags that take no value.
BOOLEAN_FLAGS = frozenset(
    {"not", "all-namespaces", "from-all-namespaces", "to-all-namespaces", "ipv4", "ipv6"}
    | {"encrypted", "unencrypted", "reply", "not-reply"}
)

#: Flags with ``--X`` / ``--from-X`` / ``--to-X`` forms → the FlowFilter field suffix.
_SIDED = {n: n for n in ("fqdn", "pod", "ip", "label", "service", "port", "workload", "identity")}
_SIDED["cluster"] = "cluster_name"

_UNSUPPORTED = frozenset({"trace-id", "ip-trace-id", "cel-expression"})

Flag = tuple[str, str | None]


@dataclass
class _Tracker:
    """``filterTracker``: the left (source) and right (destination) filter being built."""

    left: dict[str, list[Any]] | None = None
    right: dict[str, list[Any]] | None = None
    ns: list[str] = field(default_factory=list)
    src_ns: list[str] = field(default_factory=list)
    dst_ns: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    def add(self, name: str, value: Any, *, left: bool = True, right: bool = True) -> None:
        if left:
            self.left = self.left or {}
            self.left.setdefault(name, []).append(value)
        if right:
            self.right = self.right or {}
            self.right.setdefault(name, []).append(value)

    def flow_filters(self) -> tuple[FlowFilter, ...]:
        if self.left is None and self.right is None and not (self.ns or self.src_ns or self.dst_ns):
            return ()
        left, right = self.left or {}, self.right or {}
        if self.dst_ns:
            _apply_ns(left, self.dst_ns, "destination")
            _apply_ns(right, self.dst_ns, "destination")
        if self.src_ns:
            _apply_ns(left, self.src_ns, "source")
            _apply_ns(right, self.src_ns, "source")
        if self.ns:
            _apply_ns(left, self.ns, "source")
            _apply_ns(right, self.ns, "destination")
        lf, rf = FlowFilter(**left), FlowFilter(**right)
        return (lf,) if lf == rf else (lf, rf)


def _with_ns(names: list[str], namespaces: list[str]) -> list[str]:
    """``addNamespacesToFilter``: names without ``/`` get each namespace in front."""
    if not namespaces or not names:
        return names
    out = []
    for name in names:
        if "/" in name:
            out.append(name)
        else:
            out.extend(f"{ns}/{name}" for ns in namespaces)
    return out


def _apply_ns(ff: dict[str, list[Any]], namespaces: list[str], side: str) -> None:
    pods, svcs = f"{side}_pod", f"{side}_service"
    if not ff.get(pods) and not ff.get(svcs):
        ff[pods] = [""]
    for key in (pods, svcs):
        if ff.get(key):
            ff[key] = _with_ns(ff[key], namespaces)


def _namespace_of(name: str) -> str:
    parts = name.split("/")
    return parts[0] if len(parts) > 1 else ""


def _check_namespaces(t: _Tracker, ff: dict[str, list[Any]] | None) -> None:
    """``checkNamespaceConflicts``: a namespace flag versus names in another namespace."""
    if ff is None:
        return
    pairs = [
        (t.ns, "source_pod"),
        (t.ns, "source_service"),
        (t.ns, "destination_pod"),
        (t.ns, "destination_service"),
        (t.src_ns, "source_pod"),
        (t.src_ns, "source_service"),
        (t.dst_ns, "destination_pod"),
        (t.dst_ns, "destination_service"),
    ]
    for namespaces, key in pairs:
        for ns in namespaces:
            for name in ff.get(key, []):
                other = _namespace_of(name)
                if other and other != ns:
                    raise InvalidArgument(
                        f'namespace conflict: "{ns}" does not contain "{name}"',
                        hint="drop the namespace flag or the namespace of the name, or make them agree",
                    )
    for side in ("source", "destination"):
        for pod in ff.get(f"{side}_pod", []):
            pod_ns = _namespace_of(pod)
            for svc in ff.get(f"{side}_service", []) if pod_ns else []:
                if _namespace_of(svc) != pod_ns:
                    raise InvalidArgument(
                        f'namespace of service "{svc}" conflict with pod "{pod_ns}"',
                        hint="give the pod and the service of one side the same namespace",
                    )


def _check_conflicts(changed: list[str]) -> None:
    for group in CONFLICTS:
        for flag in group:
            if flag not in changed:
                continue
            for other in group:
                if other != flag and other in changed:
                    raise InvalidArgument(
                        f"filters --{flag} and --{other} cannot be combined",
                        hint="run one observe per alternative, or use the plain --X form",
                    )


#: Value readers of the sided flags that do not take the text as it is.
_SIDED_VALUES = {"identity": identity, "workload": workload}
#: Flags that set one field the same way in both filters: name → (field, value reader).
_BOTH: dict[str, tuple[str, Any]] = {
    "uuid": ("uuid", str),
    "snat-ip": ("source_ip_xlated", str),
    "ip-version": ("ip_version", ip_version),
    "verdict": ("verdict", verdict),
    "drop-reason-desc": ("drop_reason_desc", drop_reason),
    "http-status": ("http_status_code", str),
    "http-method": ("http_method", str),
    "http-path": ("http_path", str),
    "http-url": ("http_url", str),
    "http-header": ("http_header", http_header),
    "type": ("event_type", event_type),
    "protocol": ("protocol", str),
    "node-name": ("node_name", str),
    "node-label": ("node_labels", str),
    "tcp-flags": ("tcp_flags", tcp_flags),
    "traffic-direction": ("traffic_direction", direction),
    "interface": ("interface", lambda v: NetworkInterface(name=v)),
}


def _set(t: _Tracker, name: str, value: str) -> None:
    """``flowFilter.set``: record the flag, check conflicts, update left/right."""
    if name not in t.changed:
        t.changed.append(name)
    _check_conflicts(t.changed)
    base = name.removeprefix("from-").removeprefix("to-")
    if base in _SIDED:
        parsed = _SIDED_VALUES.get(base, str)(value)
        suffix = _SIDED[base]
        if name.startswith("from-"):
            t.add(f"source_{suffix}", parsed)
        elif name.startswith("to-"):
            t.add(f"destination_{suffix}", parsed)
        else:
            t.add(f"source_{suffix}", parsed, right=False)
            t.add(f"destination_{suffix}", parsed, left=False)
    elif name in _BOTH:
        key, parse = _BOTH[name]
        t.add(key, parse(value))
    elif name in ("ipv4", "ipv6"):
        t.add("ip_version", IPVersion.IPv4 if name == "ipv4" else IPVersion.IPv6)
    elif name in ("encrypted", "unencrypted"):
        t.add("encrypted", name == "encrypted")
    elif name in ("reply", "not-reply"):
        t.add("reply", name == "reply")
    elif name in ("namespace", "from-namespace", "to-namespace"):
        {"namespace": t.ns, "from-namespace": t.src_ns, "to-namespace": t.dst_ns}[name].append(
            value
        )
    elif name in ("all-namespaces", "from-all-namespaces", "to-all-namespaces"):
        target = {"all-namespaces": t.ns, "from-all-namespaces": t.src_ns}.get(name, t.dst_ns)
        target.append("")
    _check_namespaces(t, t.left)
    _check_namespaces(t, t.right)


def flag_name(flag: str) -> str:
    """``--to-label`` / ``to-label`` / ``-l`` → the long name without dashes."""
    if flag in SHORT_FLAGS:
        return SHORT_FLAGS[flag]
    return flag.lstrip("-")


def is_filter_flag(name: str) -> bool:
    """Whether ``name`` (as returned by :func:`flag_name`) is a filter flag."""
    base = name.removeprefix("from-").removeprefix("to-")
    return (
        name == "not"
        or name in _BOTH
        or base in _SIDED
        or name in BOOLEAN_FLAGS
        or name in ("namespace", "from-namespace", "to-namespace")
    )


def parse_filters(flags: Sequence[Flag]) -> tuple[tuple[FlowFilter, ...], tuple[FlowFilter, ...]]:
    """``(whitelist, blacklist)`` from filter flags in command-line order.

    ``flags`` holds ``(flag, value)`` pairs such as ``("--from-pod", "default/xwing")``; value
    is ``None`` for ``--not`` and the other flags that take none.  Raises
    :class:`~cmesh.errors.InvalidArgument` with Hubble's message for a bad value or combination.
    """
    white, black = _Tracker(), _Tracker()
    blacklisting = False
    for flag, value in flags:
        name = flag_name(flag)
        if name in _UNSUPPORTED:
            raise InvalidArgument(
                f"filter --{name} is not supported by cmesh",
                hint="cmesh flows carry no trace IDs and no CEL is evaluated; use the other"
                " filters (see cmesh hubble observe --help)",
            )
        if not is_filter_flag(name):
            raise InvalidArgument(
                f"unknown filter flag {flag}", hint="see cmesh hubble observe --help"
            )
        if name == "not":
            if blacklisting:
                raise InvalidArgument(
                    "consecutive --not statements", hint="write one --not before each filter"
                )
            blacklisting = True
            continue
        if value is None and name not in BOOLEAN_FLAGS:
            raise InvalidArgument(f"flag --{name} needs a value", hint=f"write --{name} VALUE")
        _set(black if blacklisting else white, name, value or "")
        blacklisting = False
    if blacklisting:
        raise InvalidArgument(
            "trailing --not found in the arguments", hint="put a filter after --not"
        )
    return white.flow_filters(), black.flow_filters()
