"""Counters derived from flows, with Cilium's and Hubble's metric names and labels (ref §5).

Pure: flows in, increments out.  One flow event counts once, the way the agent's metrics map
and Hubble's metric handlers count packets and events:

| metric                                   | from                         | labels                        |
|------------------------------------------|------------------------------|-------------------------------|
| cilium_drop_count_total / _bytes_total   | drop events                  | reason (text), direction      |
| cilium_forward_count_total / _bytes_total| trace events                 | direction                     |
| cilium_policy_l7_total                   | proxy access logs            | rule, proxy_type              |
| hubble_flows_processed_total             | every event                  | protocol, type, subtype, verdict |
| hubble_drop_total                        | DROPPED flows                | reason (enum name), protocol  |
| hubble_policy_verdicts_total             | policy verdicts, L7 records  | direction, match, action      |
| hubble_dns_queries_total / _responses_total | DNS access logs           | rcode, qtypes, ips_returned   |
| hubble_http_requests_total               | HTTP request access logs     | method, protocol, reporter    |
| cmesh_policy_verdicts_total              | attributed policy verdicts   | policy, cluster pair (below)  |

The label texts come from the Hubble enums (:mod:`cmesh.hubble`): the drop reason strings of
``drop.go``, the trace observation point names and the policy match types.

``cmesh_policy_verdicts_total{policy_kind, policy_namespace, policy_name, direction, action,
source_cluster, destination_cluster}`` is the family no one else has: verdicts labelled by the
policy that decided them.  Its cardinality is bounded by policies × directions × actions ×
cluster pairs, never by pods or addresses.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from cmesh.hubble import (
    Flow,
    L7FlowType,
    MessageType,
    PolicyMatchType,
    TracePoint,
    TrafficDirection,
    Verdict,
    drop_reason_text,
)

Key = tuple[str, tuple[tuple[str, str], ...]]
PACKET_BYTES = 74  # a SYN with options; bytes counters count what the datapath would

#: hubble_flows_processed_total ``type`` by ``event_type.type`` (``flow/handler.go``).
_FLOW_TYPES = {
    MessageType.DROP.value: "Drop",
    MessageType.CAPTURE.value: "Capture",
    MessageType.TRACE.value: "Trace",
    MessageType.POLICY_VERDICT.value: "PolicyVerdict",
    MessageType.ACCESS_LOG.value: "L7",
}
_TRACE_POINTS = {p.value: p.name_text for p in TracePoint}
#: ``match``: ``strings.ToLower(PolicyMatchType.String())`` (``policy/handler.go``).
_MATCH = {m.value: m.text.lower() for m in PolicyMatchType}
# The rcodes the DNS proxy answers with (the full table is cmesh.hubble.summary's, not exported).
_RCODES = {0: "No Error", 3: "Non-Existent Domain", 5: "Query Refused"}


def _key(name: str, **labels: str) -> Key:
    return name, tuple(sorted(labels.items()))


def _protocol(f: Flow) -> str:
    if f.l7 is not None:
        return "DNS" if f.l7.dns is not None else "HTTP"
    return type(f.l4).__name__ if f.l4 is not None else "Unknown"


def _direction(f: Flow) -> str:
    if f.traffic_direction is TrafficDirection.TRAFFIC_DIRECTION_UNKNOWN:
        return "UNKNOWN"
    return f.traffic_direction.name


def _policy_verdict(out: Counter[Key], f: Flow, direction: str, action: str) -> None:
    if not (f.source is not None and f.source.identity == 1):  # host-sourced ones are skipped
        match = _MATCH.get(f.policy_match_type, "unknown")
        out[
            _key("hubble_policy_verdicts_total", direction=direction, match=match, action=action)
        ] += 1
    clusters = {
        "source_cluster": f.source.cluster_name if f.source else "",
        "destination_cluster": f.destination.cluster_name if f.destination else "",
    }
    for p in (
        *f.egress_allowed_by,
        *f.ingress_allowed_by,
        *f.egress_denied_by,
        *f.ingress_denied_by,
    ):
        out[
            _key(
                "cmesh_policy_verdicts_total",
                policy_kind=p.kind,
                policy_namespace=p.namespace,
                policy_name=p.name,
                direction=direction,
                action=action,
                **clusters,
            )
        ] += 1


def _access_log(out: Counter[Key], f: Flow, proto: str, direction: str, action: str) -> None:
    l7 = f.l7
    if l7 is None:
        return
    dns, http = l7.dns, l7.http
    if l7.type is L7FlowType.REQUEST:
        proxy_type = "fqdn" if dns is not None else "envoy"
        rule = "denied" if f.verdict is Verdict.DROPPED else "forwarded"
        out[_key("cilium_policy_l7_total", rule="received", proxy_type=proxy_type)] += 1
        out[_key("cilium_policy_l7_total", rule=rule, proxy_type=proxy_type)] += 1
        match = f"l7/{proto.lower()}"
        out[
            _key("hubble_policy_verdicts_total", direction=direction, match=match, action=action)
        ] += 1
        if dns is not None:
            qtypes = ",".join(dns.qtypes)
            out[_key("hubble_dns_queries_total", qtypes=qtypes, rcode="", ips_returned="0")] += 1
        else:
            reporter = "client" if f.traffic_direction is TrafficDirection.EGRESS else "server"
            out[
                _key(
                    "hubble_http_requests_total",
                    method=http.method if http else "",
                    protocol=http.protocol if http else "",
                    reporter=reporter,
                )
            ] += 1
    elif dns is not None:
        out[
            _key(
                "hubble_dns_responses_total",
                qtypes=",".join(dns.qtypes),
                rcode=_RCODES.get(dns.rcode, str(dns.rcode)),
                ips_returned=str(len(dns.ips)),
            )
        ] += 1


def count(flows: Iterable[Flow]) -> Counter[Key]:
    """The counter increments ``flows`` make, by metric name and sorted labels."""
    out: Counter[Key] = Counter()
    for f in flows:
        event = f.event_type.type if f.event_type else 0
        proto = _protocol(f)
        direction = _direction(f)
        action = f.verdict.name.lower()
        subtype = ""
        if event == MessageType.DROP.value:
            reason = drop_reason_text(f.drop_reason)
            out[_key("cilium_drop_count_total", reason=reason, direction=direction)] += 1
            out[_key("cilium_drop_bytes_total", reason=reason, direction=direction)] += PACKET_BYTES
        elif event == MessageType.TRACE.value:
            out[_key("cilium_forward_count_total", direction=direction)] += 1
            out[_key("cilium_forward_bytes_total", direction=direction)] += PACKET_BYTES
            subtype = _TRACE_POINTS.get(f.event_type.sub_type if f.event_type else 0, "")
        elif event == MessageType.POLICY_VERDICT.value:
            _policy_verdict(out, f, direction.lower(), action)
        elif event == MessageType.ACCESS_LOG.value:
            subtype = proto
            _access_log(out, f, proto, direction.lower(), action)
        out[
            _key(
                "hubble_flows_processed_total",
                protocol=proto,
                type=_FLOW_TYPES.get(event, "Unknown"),
                subtype=subtype,
                verdict=f.verdict.name,
            )
        ] += 1
        if f.verdict is Verdict.DROPPED:
            # The flow's own reason, as Hubble's drop handler labels it
            # (``flow.GetDropReasonDesc().String()``): an L7 denial carries none, so it counts
            # as DROP_REASON_UNKNOWN; L7 denials are told apart by cilium_policy_l7_total.
            reason = f.drop_reason_desc.name
            out[_key("hubble_drop_total", reason=reason, protocol=proto)] += 1
    return out
