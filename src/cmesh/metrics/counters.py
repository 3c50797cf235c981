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
| cmesh_policy_verdicts_total              | attributed policy verdicts   | policy, cluster pair (below)  |

``cmesh_policy_verdicts_total{policy_kind, policy_namespace, policy_name, direction, action,
source_cluster, destination_cluster}`` is the family no one else has: verdicts labelled by the
policy that decided them.  Its cardinality is bounded by policies × directions × actions ×
cluster pairs, never by pods or addresses.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from cmesh.hubble import Flow, MessageType, TrafficDirection, Verdict

Key = tuple[str, tuple[tuple[str, str], ...]]
PACKET_BYTES = 74  # a SYN with options; bytes counters count what the datapath would

DROP_TEXT = {
    133: "Policy denied",
    181: "Policy denied by denylist",
    189: "Authentication required",
    158: "Service backend not found",
    151: "Stale or unroutable IP",
}

MATCH = {
    0: "none",
    1: "l3-only",
    2: "l3-l4",
    3: "l4-only",
    4: "all",
    5: "l3-proto",
    6: "proto-only",
}

TRACE_NAMES = {
    0: "to-endpoint",
    1: "to-proxy",
    2: "to-host",
    3: "to-stack",
    4: "to-overlay",
    5: "from-endpoint",
    6: "from-proxy",
    7: "from-host",
    8: "from-stack",
    9: "from-overlay",
    10: "from-network",
    11: "to-network",
}


def _key(name: str, **labels: str) -> Key:
    return name, tuple(sorted(labels.items()))


def _protocol(f: Flow) -> str:
    if f.l7 is not None:
        return "DNS" if f.l7.dns is not None else "HTTP"
    l4 = type(f.l4).__name__ if f.l4 is not None else ""
    return {"ICMPv4": "ICMPv4", "ICMPv6": "ICMPv6"}.get(l4, l4 or "Unknown")


def _direction(f: Flow) -> str:
    return (
        f.traffic_direction.name
        if f.traffic_direction is not TrafficDirection.TRAFFIC_DIRECTION_UNKNOWN
        else "UNKNOWN"
    )


def count(flows: Iterable[Flow]) -> Counter[Key]:
    out: Counter[Key] = Counter()
    for f in flows:
        et = f.event_type.type if f.event_type else 0
        proto = _protocol(f)
        if et == MessageType.DROP.value:
            out[
                _key(
                    "cilium_drop_count_total",
                    reason=DROP_TEXT.get(f.drop_reason, f.drop_reason_desc.name),
                    direction=_direction(f),
                )
            ] += 1
            out[
                _key(
                    "cilium_drop_bytes_total",
                    reason=DROP_TEXT.get(f.drop_reason, f.drop_reason_desc.name),
                    direction=_direction(f),
                )
            ] += PACKET_BYTES
            kind, sub = "Drop", ""
        elif et == MessageType.TRACE.value:
            out[_key("cilium_forward_count_total", direction=_direction(f))] += 1
            out[_key("cilium_forward_bytes_total", direction=_direction(f))] += PACKET_BYTES
            kind, sub = "Trace", TRACE_NAMES.get(f.event_type.sub_type if f.event_type else 0, "")
        elif et == MessageType.POLICY_VERDICT.value:
            kind, sub = "PolicyVerdict", ""
            host_src = f.source is not None and f.source.identity == 1
            if not host_src:
                out[
                    _key(
                        "hubble_policy_verdicts_total",
                        direction=_direction(f).lower(),
                        match=MATCH.get(f.policy_match_type, "none"),
                        action=f.verdict.name.lower(),
                    )
                ] += 1
            attributed = [
                *f.egress_allowed_by,
                *f.ingress_allowed_by,
                *f.egress_denied_by,
                *f.ingress_denied_by,
            ]
            for p in attributed:
                out[
                    _key(
                        "cmesh_policy_verdicts_total",
                        policy_kind=p.kind,
                        policy_namespace=p.namespace,
                        policy_name=p.name,
                        direction=_direction(f).lower(),
                        action=f.verdict.name.lower(),
                        source_cluster=(f.source.cluster_name if f.source else "") or "",
                        destination_cluster=(f.destination.cluster_name if f.destination else "")
                        or "",
                    )
                ] += 1
        elif et == MessageType.ACCESS_LOG.value:
            kind, sub = "L7", proto
            is_request = f.l7 is not None and f.l7.type.name == "REQUEST"
            proxy_type = "fqdn" if proto == "DNS" else "envoy"
            if is_request:
                out[_key("cilium_policy_l7_total", rule="received", proxy_type=proxy_type)] += 1
                rule = "denied" if f.verdict is Verdict.DROPPED else "forwarded"
                out[_key("cilium_policy_l7_total", rule=rule, proxy_type=proxy_type)] += 1
                out[
                    _key(
                        "hubble_policy_verdicts_total",
                        direction=_direction(f).lower(),
                        match=f"l7/{proto.lower()}",
                        action=f.verdict.name.lower(),
                    )
                ] += 1
                if proto == "DNS":
                    out[
                        _key("hubble_dns_queries_total", qtypes="A", rcode="", ips_returned="0")
                    ] += 1
                else:
                    out[
                        _key(
                            "hubble_http_requests_total",
                            method=f.l7.http.method if f.l7 and f.l7.http else "",
                            protocol="HTTP/1.1",
                            reporter="client"
                            if f.traffic_direction is TrafficDirection.EGRESS
                            else "server",
                        )
                    ] += 1
            elif proto == "DNS" and f.l7 is not None and f.l7.dns is not None:
                out[
                    _key(
                        "hubble_dns_responses_total",
                        qtypes="A",
                        rcode={0: "No Error", 3: "Non-Existent Domain", 5: "Query Refused"}.get(
                            f.l7.dns.rcode, str(f.l7.dns.rcode)
                        ),
                        ips_returned=str(len(f.l7.dns.ips)),
                    )
                ] += 1
        else:
            kind, sub = "Unknown", ""
        out[
            _key(
                "hubble_flows_processed_total",
                protocol=proto,
                type=kind,
                subtype=sub,
                verdict=f.verdict.name,
            )
        ] += 1
        if f.verdict is Verdict.DROPPED:
            out[
                _key(
                    "hubble_drop_total",
                    reason=f.drop_reason_desc.name if f.drop_reason else "POLICY_DENIED",
                    protocol=proto,
                )
            ] += 1
    return out
