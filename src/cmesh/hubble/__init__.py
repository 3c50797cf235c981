"""cmesh.hubble: flows recorded the way Hubble records them, stored, filtered and printed.

The public surface (STYLE.md rule 6); other layers import from here only.

* Flow values (``flow.py``, ref §4.1) and their JSON (``jsonpb.py``, ref §4.3):
  :class:`Flow` with :meth:`Flow.to_json` / :meth:`Flow.from_json`.
* Building the flows of one packet (``build.py``, ref §4.2): a base :class:`Flow` plus
  :func:`as_trace`, :func:`as_drop`, :func:`as_policy_verdict`, :func:`as_l7`;
  :func:`summarize` computes ``Summary``.
* Filters (``filters.py``, ``filterflags.py``, ref §4.5): :class:`FlowFilter`,
  :func:`parse_filters` (the ``hubble observe`` flags in order), :func:`matches`.
* Queries and the store (``query.py``, ``store.py``, ref §4.5, §4.6): :func:`build_request`,
  :class:`FlowStore` (``add``, ``get_flows``, ``follow``, ``status``).
* Output (``printer.py``, ref §4.4): :class:`Printer`, :func:`render`, :class:`PrinterOptions`.

A datapath records a dropped SYN like this::

    base = Flow(time=now_ns, uuid=make_uuid(cluster, seq), node_name=node_name(cluster, node),
                IP=IP(src_ip, dst_ip), l4=TCP(sport, dport, TCPFlags(SYN=True)),
                source=Endpoint(...), destination=Endpoint(...))
    FlowStore(store).add(cluster, [
        as_policy_verdict(base, Verdict.DROPPED, PolicyMatchType.NONE,
                          TrafficDirection.INGRESS, drop_reason=DropReason.POLICY_DENIED),
        as_drop(base, DropReason.POLICY_DENIED, TrafficDirection.INGRESS),
    ])
"""

from cmesh.hubble.build import (
    as_drop,
    as_l7,
    as_policy_verdict,
    as_trace,
    make_uuid,
    node_name,
    policy_from_ref,
)
from cmesh.hubble.enums import (
    AuthType,
    DropReason,
    FlowType,
    IPVersion,
    L7FlowType,
    MessageType,
    PolicyMatchType,
    TraceObservationPoint,
    TracePoint,
    TraceReason,
    TrafficDirection,
    Verdict,
    drop_reason_text,
)
from cmesh.hubble.filterflags import parse_filters
from cmesh.hubble.filters import EventTypeFilter, FlowFilter, FlowMatcher, compile_filter, matches
from cmesh.hubble.flow import (
    DNS,
    HTTP,
    IP,
    L4,
    SCTP,
    TCP,
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
from cmesh.hubble.jsonpb import format_timestamp, parse_timestamp, to_json_line
from cmesh.hubble.labelselector import parse_label_selector
from cmesh.hubble.printer import Output, Printer, PrinterOptions, render
from cmesh.hubble.query import ALL, DEFAULT_LAST, FlowsRequest, build_request, select_flows
from cmesh.hubble.store import DEFAULT_MAX_FLOWS, FlowStore, ServerStatus
from cmesh.hubble.summary import summarize
from cmesh.hubble.timefmt import TIME_FORMATS, format_time, parse_time

__all__ = [
    "ALL",
    "DEFAULT_LAST",
    "DEFAULT_MAX_FLOWS",
    "DNS",
    "HTTP",
    "IP",
    "L4",
    "SCTP",
    "TCP",
    "TIME_FORMATS",
    "UDP",
    "AuthType",
    "CiliumEventType",
    "DropReason",
    "Endpoint",
    "Ethernet",
    "EventTypeFilter",
    "Flow",
    "FlowFilter",
    "FlowMatcher",
    "FlowStore",
    "FlowType",
    "FlowsRequest",
    "HTTPHeader",
    "ICMPv4",
    "ICMPv6",
    "IPVersion",
    "L7FlowType",
    "Layer7",
    "MessageType",
    "NetworkInterface",
    "Output",
    "Policy",
    "PolicyMatchType",
    "Printer",
    "PrinterOptions",
    "ServerStatus",
    "Service",
    "TCPFlags",
    "TraceObservationPoint",
    "TracePoint",
    "TraceReason",
    "TrafficDirection",
    "Verdict",
    "Workload",
    "as_drop",
    "as_l7",
    "as_policy_verdict",
    "as_trace",
    "build_request",
    "compile_filter",
    "drop_reason_text",
    "format_time",
    "format_timestamp",
    "make_uuid",
    "matches",
    "node_name",
    "parse_filters",
    "parse_label_selector",
    "parse_time",
    "parse_timestamp",
    "policy_from_ref",
    "render",
    "select_flows",
    "summarize",
    "to_json_line",
]
