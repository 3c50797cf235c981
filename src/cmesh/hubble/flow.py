"""The Flow record and its parts: immutable values mirroring ``api/v1/flow/flow.proto`` (ref §4.1).

Field names are the proto's, case included (``IP``, ``Type``, ``Summary``, ``ID``,
``ipVersion``, TCP flag names), so code, JSON and the reference read the same.  Conventions:

* an unset sub-message is ``None`` and a set one is an instance, even when all its fields are
  zero (protojson prints a set empty message as ``{}``);
* repeated fields are tuples; ``Endpoint.labels`` is kept sorted, as Hubble sorts them;
* ``Flow.time`` is nanoseconds since the Unix epoch (UTC), so no precision is lost;
* ``Flow.is_reply`` is a ``BoolValue``: ``None`` means unknown (drops), which prints ``<>``;
* ``Flow.l4`` is the ``Layer4`` oneof: one of :data:`L4`, or ``None``.

Values normalize on construction (iterables become tuples, labels are sorted, an IP version is
derived from the addresses when not given) and are hashable.  JSON lives in
:mod:`cmesh.hubble.jsonpb`; :meth:`Flow.to_json` and :meth:`Flow.from_json` delegate to it.

>>> ep = Endpoint(identity=65841, labels=["k8s:b=2", "k8s:a=1"])
>>> ep.labels
('k8s:a=1', 'k8s:b=2')
>>> IP("10.1.0.5", "10.2.0.7").ipVersion.name
'IPv4'
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from cmesh.hubble.enums import (
    AuthType,
    DropReason,
    FlowType,
    IPVersion,
    L7FlowType,
    TraceObservationPoint,
    TraceReason,
    TrafficDirection,
    Verdict,
)
from cmesh.labels import Labels


def _tuple(obj: object, name: str, value: Iterable[Any] | None) -> None:
    object.__setattr__(obj, name, tuple(value or ()))


@dataclass(frozen=True, slots=True)
class Workload:
    name: str = ""
    kind: str = ""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A flow end: ``labels`` are ``source:key=value`` strings (a :class:`Labels` is accepted)."""

    ID: int = 0
    identity: int = 0
    cluster_name: str = ""
    namespace: str = ""
    labels: tuple[str, ...] = ()
    pod_name: str = ""
    workloads: tuple[Workload, ...] = ()

    def __post_init__(self) -> None:
        labels = self.labels  # a Labels' sorted_strings() come sorted already
        labels = labels.sorted_strings() if isinstance(labels, Labels) else sorted(labels)
        object.__setattr__(self, "labels", tuple(labels))
        _tuple(self, "workloads", self.workloads)


@dataclass(frozen=True, slots=True)
class Ethernet:
    source: str = ""
    destination: str = ""


@dataclass(frozen=True, slots=True)
class IP:
    """L3 addresses; ``ipVersion`` is derived from ``source`` when left at ``IP_NOT_USED``."""

    source: str = ""
    destination: str = ""
    ipVersion: IPVersion = IPVersion.IP_NOT_USED
    encrypted: bool = False
    source_xlated: str = ""

    def __post_init__(self) -> None:
        if self.ipVersion is IPVersion.IP_NOT_USED and (self.source or self.destination):
            object.__setattr__(self, "ipVersion", _ip_version(self.source or self.destination))


@lru_cache(maxsize=4096)  # a datapath builds an IP per packet, over few distinct addresses
def _ip_version(address: str) -> IPVersion:
    """The version of ``address``; IP_NOT_USED when it is not an IP address."""
    try:
        return IPVersion.IPv4 if ipaddress.ip_address(address).version == 4 else IPVersion.IPv6
    except ValueError:
        return IPVersion.IP_NOT_USED


#: flow.proto field order of TCPFlags, which is also its JSON order.
TCP_FLAG_NAMES = ("FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "NS")


@dataclass(frozen=True, slots=True)
class TCPFlags:
    FIN: bool = False
    SYN: bool = False
    RST: bool = False
    PSH: bool = False
    ACK: bool = False
    URG: bool = False
    ECE: bool = False
    CWR: bool = False
    NS: bool = False

    @classmethod
    def of(cls, *names: str) -> TCPFlags:
        """``TCPFlags.of("SYN", "ACK")``; names are case-insensitive.

        >>> TCPFlags.of("syn", "ACK").set_names()
        ('SYN', 'ACK')
        """
        wanted = {n.upper() for n in names}
        unknown = wanted - set(TCP_FLAG_NAMES)
        if unknown:
            raise ValueError(f"unknown tcp flag: {sorted(unknown)[0]}")
        return cls(**{n: n in wanted for n in TCP_FLAG_NAMES})

    def set_names(self) -> tuple[str, ...]:
        """The set flags in proto order."""
        return tuple(n for n in TCP_FLAG_NAMES if getattr(self, n))


@dataclass(frozen=True, slots=True)
class TCP:
    source_port: int = 0
    destination_port: int = 0
    flags: TCPFlags | None = None


@dataclass(frozen=True, slots=True)
class UDP:
    source_port: int = 0
    destination_port: int = 0


@dataclass(frozen=True, slots=True)
class SCTP:
    source_port: int = 0
    destination_port: int = 0


@dataclass(frozen=True, slots=True)
class ICMPv4:
    type: int = 0
    code: int = 0


@dataclass(frozen=True, slots=True)
class ICMPv6:
    type: int = 0
    code: int = 0


#: The ``Layer4`` oneof.
L4 = TCP | UDP | SCTP | ICMPv4 | ICMPv6


@dataclass(frozen=True, slots=True)
class HTTPHeader:
    key: str = ""
    value: str = ""


@dataclass(frozen=True, slots=True)
class HTTP:
    """An HTTP record: a request has no ``code``, a response has one (ref §4.1)."""

    code: int = 0
    method: str = ""
    url: str = ""
    protocol: str = ""
    headers: tuple[HTTPHeader, ...] = ()

    def __post_init__(self) -> None:
        headers: Iterable[HTTPHeader] | Mapping[str, str] = self.headers
        if isinstance(headers, Mapping):
            headers = [HTTPHeader(k, v) for k, v in sorted(headers.items())]
        _tuple(self, "headers", headers)


@dataclass(frozen=True, slots=True)
class DNS:
    query: str = ""
    ips: tuple[str, ...] = ()
    ttl: int = 0
    cnames: tuple[str, ...] = ()
    observation_source: str = ""
    rcode: int = 0
    qtypes: tuple[str, ...] = ()
    rrtypes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("ips", "cnames", "qtypes", "rrtypes"):
            _tuple(self, name, getattr(self, name))


@dataclass(frozen=True, slots=True)
class Layer7:
    """An L7 record; ``record`` is the proto oneof (``dns`` or ``http``)."""

    type: L7FlowType = L7FlowType.UNKNOWN_L7_TYPE
    latency_ns: int = 0
    record: HTTP | DNS | None = None

    @property
    def http(self) -> HTTP | None:
        return self.record if isinstance(self.record, HTTP) else None

    @property
    def dns(self) -> DNS | None:
        return self.record if isinstance(self.record, DNS) else None


@dataclass(frozen=True, slots=True)
class Service:
    name: str = ""
    namespace: str = ""


@dataclass(frozen=True, slots=True)
class Policy:
    """A policy that allowed or denied the flow (``*_allowed_by`` / ``*_denied_by``)."""

    name: str = ""
    namespace: str = ""
    labels: tuple[str, ...] = ()
    revision: int = 0
    kind: str = ""

    def __post_init__(self) -> None:
        _tuple(self, "labels", self.labels)


@dataclass(frozen=True, slots=True)
class CiliumEventType:
    """``event_type``: the monitor message type and its sub-type (ref §4.1)."""

    type: int = 0
    sub_type: int = 0


@dataclass(frozen=True, slots=True)
class NetworkInterface:
    index: int = 0
    name: str = ""


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_IP = IP  # the Flow field ``IP`` shadows the class name inside the class body


@dataclass(frozen=True, slots=True)
class Flow:
    """One Hubble flow event.  Build it with the helpers of :mod:`cmesh.hubble.build`."""

    time: int = 0
    uuid: str = ""
    verdict: Verdict = Verdict.VERDICT_UNKNOWN
    drop_reason: int = 0
    auth_type: AuthType = AuthType.DISABLED
    ethernet: Ethernet | None = None
    IP: _IP | None = None
    l4: L4 | None = None
    source: Endpoint | None = None
    destination: Endpoint | None = None
    Type: FlowType = FlowType.UNKNOWN_TYPE
    node_name: str = ""
    node_labels: tuple[str, ...] = ()
    source_names: tuple[str, ...] = ()
    destination_names: tuple[str, ...] = ()
    l7: Layer7 | None = None
    event_type: CiliumEventType | None = None
    source_service: Service | None = None
    destination_service: Service | None = None
    traffic_direction: TrafficDirection = TrafficDirection.TRAFFIC_DIRECTION_UNKNOWN
    policy_match_type: int = 0
    trace_observation_point: TraceObservationPoint = TraceObservationPoint.UNKNOWN_POINT
    trace_reason: TraceReason = TraceReason.TRACE_REASON_UNKNOWN
    drop_reason_desc: DropReason = DropReason.DROP_REASON_UNKNOWN
    is_reply: bool | None = None
    interface: NetworkInterface | None = None
    proxy_port: int = 0
    Summary: str = ""
    egress_allowed_by: tuple[Policy, ...] = ()
    ingress_allowed_by: tuple[Policy, ...] = ()
    egress_denied_by: tuple[Policy, ...] = ()
    ingress_denied_by: tuple[Policy, ...] = ()
    policy_log: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        for name in _TUPLE_FIELDS:
            _tuple(self, name, getattr(self, name))

    # -- derived views ------------------------------------------------------------------

    @property
    def timestamp(self) -> datetime:
        """``time`` as an aware UTC datetime (truncated to microseconds)."""
        return _EPOCH + timedelta(microseconds=self.time // 1000)

    @property
    def ports(self) -> tuple[int, int] | None:
        """``(source, destination)`` L4 ports of TCP/UDP/SCTP flows, else ``None``."""
        if isinstance(self.l4, TCP | UDP | SCTP):
            return self.l4.source_port, self.l4.destination_port
        return None

    @property
    def cluster_name(self) -> str:
        """The cluster of the observing node: the part of ``node_name`` before ``/``."""
        cluster, sep, _ = self.node_name.partition("/")
        return cluster if sep else ""

    def with_(self, **changes: Any) -> Flow:
        """A copy with ``changes`` applied, as ``dataclasses.replace`` but without re-running
        ``__init__`` over every field (the datapath derives most events from a base flow).

        Replaced below by :func:`_compile_with`: the same, as straight-line code.
        """
        raise NotImplementedError

    # -- JSON (cmesh.hubble.jsonpb) -----------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The GetFlowsResponse dict ``hubble observe -o json`` prints for this flow (ref §4.3)."""
        from cmesh.hubble.jsonpb import response_to_json

        return response_to_json(self)

    def to_flow_json(self) -> dict[str, Any]:
        """The bare ``Flow`` message as protojson (the value of the ``flow`` key)."""
        from cmesh.hubble.jsonpb import flow_to_json

        return flow_to_json(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str | bytes) -> Flow:
        """Read a GetFlowsResponse line or a bare Flow object (text or parsed)."""
        from cmesh.hubble.jsonpb import flow_from_json

        return flow_from_json(data)


_TUPLE_FIELDS = (
    "node_labels",
    "source_names",
    "destination_names",
    "egress_allowed_by",
    "ingress_allowed_by",
    "egress_denied_by",
    "ingress_denied_by",
    "policy_log",
)


def _as_tuple(value: Iterable[Any] | None) -> tuple[Any, ...]:
    return value if type(value) is tuple else tuple(value or ())


def _compile_with() -> Callable[..., Flow]:
    """``Flow.with_`` generated once as straight-line code, the way ``dataclasses`` generates
    ``__init__``: a loop over its 33 slots was the largest single cost of building an event, and
    the datapath copies a flow twice per event it emits.  Each field is a keyword defaulting to
    a marker meaning "keep"; repeated fields given become tuples; unknown names are an error.
    """
    names = [f.name for f in fields(Flow)]
    lines = [
        f"def with_(self, *, {', '.join(f'{n}=_KEEP' for n in names)}, **unknown):",
        "    if unknown:",
        "        raise TypeError(f\"Flow has no field(s) {', '.join(sorted(unknown))}\")",
        "    new = _new(Flow)",
    ]
    for n in names:
        given = f"_as_tuple({n})" if n in _TUPLE_FIELDS else n
        lines.append(f"    _set_{n}(new, self.{n} if {n} is _KEEP else {given})")
    lines.append("    return new")
    namespace: dict[str, Any] = {
        "_KEEP": object(),
        "_new": object.__new__,
        "_as_tuple": _as_tuple,
        "Flow": Flow,
        **{f"_set_{n}": Flow.__dict__[n].__set__ for n in names},
    }
    exec("\n".join(lines), namespace)  # source built from the field names above only
    with_: Callable[..., Flow] = namespace["with_"]
    with_.__doc__ = Flow.with_.__doc__
    with_.__qualname__ = "Flow.with_"
    return with_


Flow.with_ = _compile_with()  # type: ignore[method-assign]
