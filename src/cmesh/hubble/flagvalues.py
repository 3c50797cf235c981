"""How the value of each ``hubble observe`` filter flag is read (ref §4.5, ``flows_filter.go``).

Each reader returns the FlowFilter value or raises :class:`~cmesh.errors.InvalidArgument` with
the message Hubble's CLI prints.  Notable rules: ``--verdict`` and ``--drop-reason-desc`` take
the exact upper-case enum name; ``--identity`` a reserved name (``world``) or a number (``0x``
allowed); ``--type`` a name or number, with a trace, agent or numeric sub-type; ``--tcp-flags``
a comma list in any case; an unknown ``--ip-version`` silently means "not IP".
"""

from __future__ import annotations

from cmesh.errors import InvalidArgument
from cmesh.hubble.enums import (
    DropReason,
    IPVersion,
    MessageType,
    TracePoint,
    TrafficDirection,
    Verdict,
)
from cmesh.hubble.filters import EventTypeFilter
from cmesh.hubble.flow import HTTPHeader, TCPFlags, Workload
from cmesh.identity import RESERVED_BY_NAME

#: ``agentEventSubtypes`` (values of ``AgentNotification``).
AGENT_SUBTYPES = {
    name: number
    for number, name in enumerate(
        [
            "unspecified",
            "message",
            "agent-started",
            "endpoint-regenerate-success",
            "endpoint-regenerate-failure",
            "policy-updated",
            "policy-deleted",
            "endpoint-created",
            "endpoint-deleted",
            "ipcache-upserted",
            "ipcache-deleted",
            "service-upserted",
            "service-deleted",
        ]
    )
}


def identity(value: str) -> int:
    """``parseIdentity``: a reserved name (``world``, ``host``, ...) or a uint32 (``0x`` ok)."""
    if value in RESERVED_BY_NAME and value != "unknown":
        return RESERVED_BY_NAME[value].value
    try:
        number = int(value, 0)
        if 0 <= number < 2**32:
            return number
    except ValueError:
        pass
    names = " ".join(
        n for n, r in sorted(RESERVED_BY_NAME.items(), key=lambda kv: kv[1]) if n != "unknown"
    )
    raise InvalidArgument(
        f"invalid security identity, expected one of [{names}] or a numeric value",
        hint="e.g. --identity world or --identity 16530",
    )


def event_type(value: str) -> EventTypeFilter:
    """``TYPE[:SUBTYPE]``; a sub-type name is looked up only for a type given by name."""
    head, sep, sub = value.partition(":")
    known = MessageType.from_filter_name(head)
    if known is not None:
        etype = known.value
    elif head.isdigit() and int(head) < 2**32:
        etype = int(head)
    else:
        raise InvalidArgument(
            f"unable to parse type '{head}', not a known type name and unable to parse as numeric value",
            hint="one of drop, trace, policy-verdict, l7, capture, trace-sock, agent, or a number",
        )
    if not sep:
        return EventTypeFilter(etype)
    subtype = None
    if known is MessageType.TRACE and (point := TracePoint.from_name_text(sub)) is not None:
        subtype = point.value
    elif known is MessageType.AGENT:
        subtype = AGENT_SUBTYPES.get(sub)
    if subtype is None:
        if not sub.isdigit() or int(sub) >= 2**32:
            raise InvalidArgument(
                f"unable to parse event sub-type '{sub}', not a known sub-type name and unable"
                " to parse as numeric value",
                hint="e.g. trace:to-endpoint, trace:from-network, or a number",
            )
        subtype = int(sub)
    return EventTypeFilter(etype, True, subtype)


def verdict(value: str) -> Verdict:
    """The exact enum name; the hint catches the common lower-case mistake."""
    if value in Verdict.__members__:
        return Verdict[value]
    names = ", ".join(v.name for v in Verdict if v.value)
    hint = f"verdicts are upper-case enum names: {names}"
    if value.upper() in Verdict.__members__:
        hint = f"write --verdict {value.upper()} (verdicts are upper-case enum names)"
    raise InvalidArgument(f"invalid --verdict value: {value}", hint=hint)


def tcp_flags(value: str) -> TCPFlags:
    """``syn,ack``: comma-separated flag names in any case."""
    try:
        return TCPFlags.of(*value.split(","))
    except ValueError as exc:
        raise InvalidArgument(
            str(exc), hint="flags: SYN, FIN, RST, PSH, ACK, URG, ECE, CWR, NS"
        ) from None


def direction(value: str) -> TrafficDirection:
    """``ingress`` or ``egress``, any case."""
    low = value.lower()
    if low in ("ingress", "egress"):
        return TrafficDirection[low.upper()]
    raise InvalidArgument(
        f"{low}: invalid traffic direction, expected ingress or egress",
        hint="write --traffic-direction ingress or --traffic-direction egress",
    )


def ip_version(value: str) -> IPVersion:
    """``v4``/``4``/``ipv4``/``ip4`` or the v6 forms; anything else means non-IP flows."""
    low = value.lower()
    if low in ("4", "v4", "ipv4", "ip4"):
        return IPVersion.IPv4
    if low in ("6", "v6", "ipv6", "ip6"):
        return IPVersion.IPv6
    return IPVersion.IP_NOT_USED


def drop_reason(value: str) -> DropReason:
    """The exact DropReason enum name, e.g. ``POLICY_DENIED``."""
    if not value:
        raise InvalidArgument("empty --drop-reason-desc value", hint="e.g. POLICY_DENIED")
    if value not in DropReason.__members__:
        raise InvalidArgument(
            f"invalid --drop-reason-desc value: {value}", hint="e.g. POLICY_DENIED"
        )
    return DropReason[value]


def workload(value: str) -> Workload:
    """``[kind/]name``; ``Deployment/`` is every Deployment."""
    kind, sep, name = value.partition("/")
    return Workload(name=name, kind=kind) if sep else Workload(name=value)


def http_header(value: str) -> HTTPHeader:
    """``key:value``, split at the first colon."""
    key, sep, val = value.partition(":")
    if not sep:
        raise InvalidArgument(
            f'invalid http-header value "{value}", expected name:value',
            hint="e.g. --http-header X-Request-Id:42",
        )
    return HTTPHeader(key, val)
