"""Flow JSON exactly as ``hubble observe -o json|jsonpb`` prints it, and back (ref §4.3).

Encoding follows protojson with ``UseProtoNames: true`` (``api/v1/observer/observer.pb.json.go``):

* keys are proto field names (``IP``, ``Type``, ``Summary``, ``ID``, ``ipVersion``,
  ``drop_reason_desc``), emitted in the order fields are declared in ``flow.proto``;
* enums are written as their names; 64-bit integers (``latency_ns``, ``Policy.revision``) as
  decimal strings; timestamps as RFC 3339 in UTC with 0, 3, 6 or 9 fractional digits and ``Z``;
* zero scalars, empty lists and unset messages are omitted; a set message prints even when
  empty (``{}``); the ``is_reply`` BoolValue prints whenever it is known, ``false`` included;
* Hubble also fills the deprecated ``reply`` bool from ``is_reply``, so it appears when true.

One line is a GetFlowsResponse: ``{"flow": {...}, "node_name": ..., "time": ...}``, compacted
by Go's ``json.Encoder`` (which escapes ``<``, ``>`` and ``&`` as ``\\u003c`` ...).

Decoding accepts that line or a bare Flow object, proto or lowerCamel key names, enum names or
numbers, 64-bit integers as strings or numbers; unknown keys are ignored, unknown enum values
read as the enum's zero.  ``time == 0`` means "no timestamp" (an unset Timestamp).

>>> from cmesh.hubble.flow import Flow
>>> Flow.from_json(Flow(time=5, uuid="u").to_json()) == Flow(time=5, uuid="u")
True
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import fields
from functools import cache
from typing import Any

import orjson

from cmesh.errors import InvalidArgument
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
from cmesh.hubble.flow import (
    DNS,
    HTTP,
    IP,
    SCTP,
    TCP,
    TCP_FLAG_NAMES,
    UDP,
    CiliumEventType,
    Endpoint,
    Ethernet,
    Flow,
    HTTPHeader,
    ICMPv4,
    ICMPv6,
    Layer7,
    NetworkInterface,
    Policy,
    Service,
    TCPFlags,
    Workload,
)
from cmesh.hubble.timefmt import format_timestamp, parse_timestamp

JSON = dict[str, Any]

# -- field tables ----------------------------------------------------------------------------
#
# Per message, its fields in flow.proto declaration order: (proto name, attribute, kind).
# kind: "s" str, "i" 32-bit int, "l" 64-bit int (string in JSON), "b" bool, "ls" repeated
# str, an Enum class, a message class (nested), or ("*", class) for a repeated message.

Kind = Any
_TABLES: dict[type, tuple[tuple[str, str, Kind], ...]] = {
    Workload: (("name", "name", "s"), ("kind", "kind", "s")),
    Endpoint: (
        ("ID", "ID", "i"),
        ("identity", "identity", "i"),
        ("cluster_name", "cluster_name", "s"),
        ("namespace", "namespace", "s"),
        ("labels", "labels", "ls"),
        ("pod_name", "pod_name", "s"),
        ("workloads", "workloads", ("*", Workload)),
    ),
    Ethernet: (("source", "source", "s"), ("destination", "destination", "s")),
    IP: (
        ("source", "source", "s"),
        ("source_xlated", "source_xlated", "s"),
        ("destination", "destination", "s"),
        ("ipVersion", "ipVersion", IPVersion),
        ("encrypted", "encrypted", "b"),
    ),
    TCPFlags: tuple((n, n, "b") for n in TCP_FLAG_NAMES),
    TCP: (
        ("source_port", "source_port", "i"),
        ("destination_port", "destination_port", "i"),
        ("flags", "flags", TCPFlags),
    ),
    UDP: (("source_port", "source_port", "i"), ("destination_port", "destination_port", "i")),
    SCTP: (("source_port", "source_port", "i"), ("destination_port", "destination_port", "i")),
    ICMPv4: (("type", "type", "i"), ("code", "code", "i")),
    ICMPv6: (("type", "type", "i"), ("code", "code", "i")),
    HTTPHeader: (("key", "key", "s"), ("value", "value", "s")),
    HTTP: (
        ("code", "code", "i"),
        ("method", "method", "s"),
        ("url", "url", "s"),
        ("protocol", "protocol", "s"),
        ("headers", "headers", ("*", HTTPHeader)),
    ),
    DNS: (
        ("query", "query", "s"),
        ("ips", "ips", "ls"),
        ("ttl", "ttl", "i"),
        ("cnames", "cnames", "ls"),
        ("observation_source", "observation_source", "s"),
        ("rcode", "rcode", "i"),
        ("qtypes", "qtypes", "ls"),
        ("rrtypes", "rrtypes", "ls"),
    ),
    Service: (("name", "name", "s"), ("namespace", "namespace", "s")),
    Policy: (
        ("name", "name", "s"),
        ("namespace", "namespace", "s"),
        ("labels", "labels", "ls"),
        ("revision", "revision", "l"),
        ("kind", "kind", "s"),
    ),
    CiliumEventType: (("type", "type", "i"), ("sub_type", "sub_type", "i")),
    NetworkInterface: (("index", "index", "i"), ("name", "name", "s")),
}

#: The Layer4 oneof: JSON key per class.
_L4_KEYS: dict[type, str] = {
    TCP: "TCP",
    UDP: "UDP",
    ICMPv4: "ICMPv4",
    ICMPv6: "ICMPv6",
    SCTP: "SCTP",
}

# Flow fields in declaration order; "l4", "l7", "reply" and "is_reply" are special-cased.
_FLOW: tuple[tuple[str, str, Kind], ...] = (
    ("time", "time", "ts"),
    ("uuid", "uuid", "s"),
    ("verdict", "verdict", Verdict),
    ("drop_reason", "drop_reason", "i"),
    ("auth_type", "auth_type", AuthType),
    ("ethernet", "ethernet", Ethernet),
    ("IP", "IP", IP),
    ("l4", "l4", "l4"),
    ("source", "source", Endpoint),
    ("destination", "destination", Endpoint),
    ("Type", "Type", FlowType),
    ("node_name", "node_name", "s"),
    ("node_labels", "node_labels", "ls"),
    ("source_names", "source_names", "ls"),
    ("destination_names", "destination_names", "ls"),
    ("l7", "l7", "l7"),
    ("reply", "is_reply", "reply"),
    ("event_type", "event_type", CiliumEventType),
    ("source_service", "source_service", Service),
    ("destination_service", "destination_service", Service),
    ("traffic_direction", "traffic_direction", TrafficDirection),
    ("policy_match_type", "policy_match_type", "i"),
    ("trace_observation_point", "trace_observation_point", TraceObservationPoint),
    ("trace_reason", "trace_reason", TraceReason),
    ("drop_reason_desc", "drop_reason_desc", DropReason),
    ("is_reply", "is_reply", "wb"),
    ("interface", "interface", NetworkInterface),
    ("proxy_port", "proxy_port", "i"),
    ("Summary", "Summary", "s"),
    ("egress_allowed_by", "egress_allowed_by", ("*", Policy)),
    ("ingress_allowed_by", "ingress_allowed_by", ("*", Policy)),
    ("egress_denied_by", "egress_denied_by", ("*", Policy)),
    ("ingress_denied_by", "ingress_denied_by", ("*", Policy)),
    ("policy_log", "policy_log", "ls"),
)

# -- encoding --------------------------------------------------------------------------------
#
# Each field's kind is compiled once into an encoder for a *truthy* value that returns the JSON
# value, or ``None`` when protojson omits it (a zero enum).  Zero scalars, empty strings and
# lists and unset messages are falsy and skipped before any call; a set message is an instance
# and so truthy even when empty (``{}``).  Encoding runs once per recorded flow.


def _encoder(kind: Kind) -> Callable[[Any], Any]:
    if kind in ("s", "i", "wb"):  # "wb": the is_reply BoolValue, printed when known (false too)
        return _same
    if kind == "l":
        return str
    if kind in ("b", "reply"):  # "reply": the deprecated bool, printed when is_reply is true
        return _true
    if kind == "l4":
        return _encode_l4
    if kind == "l7":
        return _encode_l7
    if kind == "ls":
        return list
    if kind == "ts":
        return format_timestamp
    if isinstance(kind, tuple):
        return _encode_messages
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return _enum_name
    return _encode_message


def _same(value: Any) -> Any:
    return value


def _true(value: Any) -> bool:
    return True


def _enum_name(value: enum.Enum) -> str | None:
    return value.name if value.value != 0 else None


def _encode_message(msg: Any) -> JSON:
    out: JSON = {}
    for key, attr, encode in _ENCODERS[type(msg)]:
        value = getattr(msg, attr)
        if value:
            encoded = encode(value)
            if encoded is not None:
                out[key] = encoded
    return out


def _encode_messages(msgs: Any) -> list[JSON]:
    return [_encode_message(m) for m in msgs]


def _encode_l4(l4: Any) -> JSON:
    return {_L4_KEYS[type(l4)]: _encode_message(l4)}


def _encode_l7(l7: Layer7) -> JSON:
    out: JSON = {}
    if l7.type.value:
        out["type"] = l7.type.name
    if l7.latency_ns:
        out["latency_ns"] = str(l7.latency_ns)
    if isinstance(l7.record, DNS):
        out["dns"] = _encode_message(l7.record)
    elif isinstance(l7.record, HTTP):
        out["http"] = _encode_message(l7.record)
    return out


_ENCODERS: dict[type, tuple[tuple[str, str, Callable[[Any], Any]], ...]] = {
    cls: tuple((key, attr, _encoder(kind)) for key, attr, kind in table)
    for cls, table in _TABLES.items()
}
_FLOW_ENCODERS = tuple((key, attr, _encoder(kind), kind == "wb") for key, attr, kind in _FLOW)


def flow_to_json(flow: Flow) -> JSON:
    """The bare Flow message as a protojson dict (keys in declaration order)."""
    out: JSON = {}
    for key, attr, encode, keep_false in _FLOW_ENCODERS:
        value = getattr(flow, attr)
        if value or (keep_false and value is False):
            encoded = encode(value)
            if encoded is not None:
                out[key] = encoded
    return out


def response_to_json(flow: Flow) -> JSON:
    """The GetFlowsResponse of ``hubble observe -o json``: flow, then node_name and time."""
    out: JSON = {"flow": flow_to_json(flow)}
    if flow.node_name:
        out["node_name"] = flow.node_name
    if flow.time:
        out["time"] = format_timestamp(flow.time)
    return out


_GO_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_GO_ESCAPE_RE = re.compile("[<>&\u2028\u2029]")


def to_json_line(flow: Flow) -> str:
    """One ``-o json`` line (no newline): compact, UTF-8, HTML characters escaped as Go does."""
    text = orjson.dumps(response_to_json(flow)).decode()  # compact, UTF-8, like json.Encoder
    return _GO_ESCAPE_RE.sub(lambda m: _GO_ESCAPES[m.group(0)], text)


# -- decoding --------------------------------------------------------------------------------


@cache  # proto field names: a small fixed set, looked up for every flow read
def _camel(name: str) -> str:
    """protoc's json_name: drop underscores, upper-case the next letter (``node_name``→``nodeName``)."""
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _get(data: Mapping[str, Any], key: str) -> Any:
    if key in data:
        return data[key]
    return data.get(_camel(key))


def _decode_enum(cls: type[enum.Enum], raw: Any) -> enum.Enum:
    try:
        return cls[raw] if isinstance(raw, str) else cls(int(raw))
    except (KeyError, ValueError, TypeError):
        return cls(0)


def _decode_value(raw: Any, kind: Kind) -> Any:
    if kind == "s":
        return str(raw)
    if kind in ("i", "l"):
        return int(raw)
    if kind == "b":
        return bool(raw)
    if kind == "ls":
        return tuple(str(v) for v in raw)
    if kind == "ts":
        return parse_timestamp(raw)
    if isinstance(kind, tuple):
        return tuple(_decode_message(kind[1], v) for v in raw)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return _decode_enum(kind, raw)
    return _decode_message(kind, raw)


def _decode_message(cls: type, data: Any) -> Any:
    if not isinstance(data, Mapping):
        raise ValueError(f"{cls.__name__} must be a JSON object, not {type(data).__name__}")
    kwargs: dict[str, Any] = {}
    for key, attr, kind in _TABLES[cls]:
        raw = _get(data, key)
        if raw is not None:
            kwargs[attr] = _decode_value(raw, kind)
    return cls(**kwargs)


def _decode_l7(data: Mapping[str, Any]) -> Layer7:
    record: HTTP | DNS | None = None
    if _get(data, "dns") is not None:
        record = _decode_message(DNS, data["dns"])
    elif _get(data, "http") is not None:
        record = _decode_message(HTTP, data["http"])
    kind = _get(data, "type")
    latency = _get(data, "latency_ns")
    l7type = L7FlowType.UNKNOWN_L7_TYPE if kind is None else _decode_enum(L7FlowType, kind)
    return Layer7(type=l7type, latency_ns=int(latency or 0), record=record)  # type: ignore[arg-type]


def _decode_l4(data: Mapping[str, Any]) -> Any:
    for cls, key in _L4_KEYS.items():
        if data.get(key) is not None:
            return _decode_message(cls, data[key])
    return None


_DECODERS: dict[str, Callable[[Any], Any]] = {"l4": _decode_l4, "l7": _decode_l7}


def _decode_flow(data: Mapping[str, Any]) -> Flow:
    kwargs: dict[str, Any] = {}
    for key, attr, kind in _FLOW:
        raw = _get(data, key)
        if raw is None or kind == "reply":
            continue
        if kind in _DECODERS:
            kwargs[attr] = _DECODERS[kind](raw)
        elif kind == "wb":
            kwargs[attr] = bool(raw.get("value", False)) if isinstance(raw, Mapping) else bool(raw)
        else:
            kwargs[attr] = _decode_value(raw, kind)
    if "is_reply" not in kwargs and _get(data, "reply") is True:
        kwargs["is_reply"] = True
    return Flow(**kwargs)


def flow_from_json(data: Mapping[str, Any] | str | bytes) -> Flow:
    """A Flow from a GetFlowsResponse (``{"flow": ...}``) or a bare Flow object.

    Raises :class:`~cmesh.errors.InvalidArgument` for text that is not JSON, a response that
    carries no flow (``node_status``, ``lost_events``) or a field of the wrong shape.
    """
    try:
        obj = orjson.loads(data) if isinstance(data, str | bytes) else data
        if not isinstance(obj, Mapping):
            raise ValueError("a flow must be a JSON object")
        if "flow" in obj:
            flow = _decode_flow(obj["flow"])
            if not flow.time and obj.get("time"):
                flow = flow.with_(time=parse_timestamp(obj["time"]))
            if not flow.node_name and (obj.get("node_name") or obj.get("nodeName")):
                flow = flow.with_(node_name=obj.get("node_name") or obj.get("nodeName"))
            return flow
        if any(k in obj for k in ("node_status", "lost_events", "nodeStatus", "lostEvents")):
            raise ValueError("this GetFlowsResponse carries no flow")
        return _decode_flow(obj)
    except (ValueError, TypeError, AttributeError) as exc:
        raise InvalidArgument(
            f"cannot read flow JSON: {exc}",
            hint="give one `hubble observe -o json` line or a Flow object",
        ) from None


#: Every Flow attribute the codec writes (a test checks none is forgotten).
ENCODED_FLOW_FIELDS = frozenset(a for _, a, _ in _FLOW)
ALL_FLOW_FIELDS = frozenset(f.name for f in fields(Flow))
