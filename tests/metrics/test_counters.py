"""Counters derived from flows: Cilium's and Hubble's metric names and label values (ref §5)."""

from __future__ import annotations

import pytest

from cmesh.hubble import (
    DNS,
    HTTP,
    IP,
    TCP,
    DropReason,
    Endpoint,
    Flow,
    L7FlowType,
    PolicyMatchType,
    TracePoint,
    TrafficDirection,
    Verdict,
    as_drop,
    as_l7,
    as_policy_verdict,
    as_trace,
    policy_from_ref,
)
from cmesh.metrics import count

BASE = Flow(
    time=1,
    node_name="c1/n1",
    IP=IP("10.1.0.1", "10.2.0.2"),
    l4=TCP(40000, 80),
    source=Endpoint(identity=70000, cluster_name="c1"),
    destination=Endpoint(identity=70001, cluster_name="c2"),
)


def http_denied() -> Flow:
    """A POST the ingress proxy refused: a DROPPED L7 request flow."""
    return as_l7(
        BASE,
        HTTP(0, "POST", "http://s/", "HTTP/1.1"),
        L7FlowType.REQUEST,
        TrafficDirection.INGRESS,
        verdict=Verdict.DROPPED,
    )


def only(name: str, flows: list[Flow]) -> dict[tuple[tuple[str, str], ...], int]:
    return {labels: n for (metric, labels), n in count(flows).items() if metric == name}


@pytest.mark.parametrize(
    ("reason", "text"),
    [
        (DropReason.POLICY_DENIED, "Policy denied"),
        (DropReason.POLICY_DENY, "Policy denied by denylist"),
        (DropReason.AUTH_REQUIRED, "Authentication required"),
        (DropReason.UNKNOWN_L3_TARGET_ADDRESS, "Unknown L3 target address"),
        (DropReason.INVALID_IDENTITY, "Invalid identity"),
    ],
    ids=["policy-denied", "policy-deny", "auth-required", "unknown-l3-target", "invalid-identity"],
)
def test_drop_count_reason_is_the_human_drop_string_ref_5_1(reason, text):
    drop = as_drop(BASE, reason, TrafficDirection.INGRESS)
    labels = (("direction", "INGRESS"), ("reason", text))
    assert only("cilium_drop_count_total", [drop]) == {labels: 1}
    assert only("cilium_drop_bytes_total", [drop]) == {labels: 74}


def test_forwards_count_trace_events_by_direction_ref_5_1():
    flows = [
        as_trace(BASE, TracePoint.FROM_LXC, TrafficDirection.EGRESS),
        as_trace(BASE, TracePoint.TO_LXC, TrafficDirection.INGRESS),
        as_trace(BASE, TracePoint.TO_STACK, TrafficDirection.EGRESS),
    ]
    assert only("cilium_forward_count_total", flows) == {
        (("direction", "EGRESS"),): 2,
        (("direction", "INGRESS"),): 1,
    }


@pytest.mark.parametrize(
    ("flow", "kind", "subtype"),
    [
        (as_trace(BASE, TracePoint.TO_LXC, TrafficDirection.INGRESS), "Trace", "to-endpoint"),
        (as_trace(BASE, TracePoint.TO_CRYPTO, TrafficDirection.EGRESS), "Trace", "to-crypto"),
        (as_drop(BASE, DropReason.POLICY_DENIED, TrafficDirection.INGRESS), "Drop", ""),
        (
            as_policy_verdict(BASE, Verdict.FORWARDED, 2, TrafficDirection.INGRESS),
            "PolicyVerdict",
            "",
        ),
    ],
    ids=["trace-to-endpoint", "trace-to-crypto", "drop", "policy-verdict"],
)
def test_flows_processed_type_and_subtype_ref_5_2(flow, kind, subtype):
    assert only("hubble_flows_processed_total", [flow]) == {
        (
            ("protocol", "TCP"),
            ("subtype", subtype),
            ("type", kind),
            ("verdict", flow.verdict.name),
        ): 1
    }


def test_hubble_drop_total_counts_dropped_flows_by_enum_name_ref_5_2():
    flows = [
        as_drop(BASE, DropReason.POLICY_DENY, TrafficDirection.EGRESS),
        as_trace(BASE, TracePoint.TO_LXC, TrafficDirection.INGRESS),
    ]
    assert only("hubble_drop_total", flows) == {(("protocol", "TCP"), ("reason", "POLICY_DENY")): 1}


def test_hubble_drop_total_labels_an_l7_denial_with_its_own_empty_reason_ref_5_2():
    """An HTTP request the proxy refused is a DROPPED L7 flow without a drop reason; Hubble's
    drop handler (``pkg/hubble/metrics/drop/handler.go``) labels it with the flow's reason as is:
    DROP_REASON_UNKNOWN, protocol from the L7 record."""
    denied = http_denied()
    assert only("hubble_drop_total", [denied]) == {
        (("protocol", "HTTP"), ("reason", "DROP_REASON_UNKNOWN")): 1
    }


@pytest.mark.parametrize(
    ("verdict", "match", "action"),
    [
        (Verdict.FORWARDED, PolicyMatchType.L3_L4, "forwarded"),
        (Verdict.DROPPED, PolicyMatchType.NONE, "dropped"),
        (Verdict.AUDIT, PolicyMatchType.L3_ONLY, "audit"),
        (Verdict.REDIRECTED, PolicyMatchType.PROTO_ONLY, "redirected"),
    ],
    ids=["forwarded", "dropped", "audit", "redirected"],
)
def test_policy_verdicts_are_lowercase_direction_match_action_ref_5_2(verdict, match, action):
    flow = as_policy_verdict(
        BASE, verdict, match, TrafficDirection.EGRESS, drop_reason=DropReason.POLICY_DENIED
    )
    assert only("hubble_policy_verdicts_total", [flow]) == {
        (("action", action), ("direction", "egress"), ("match", match.text.lower())): 1
    }


def test_host_sourced_policy_verdicts_are_skipped_ref_5_2():
    host = BASE.with_(source=Endpoint(identity=1))
    flow = as_policy_verdict(host, Verdict.FORWARDED, 2, TrafficDirection.INGRESS)
    assert only("hubble_policy_verdicts_total", [flow]) == {}


def test_l7_requests_count_as_l7_verdicts_and_proxy_rules_ref_5_1_ref_5_2():
    allowed = as_l7(
        BASE, HTTP(0, "GET", "http://s/", "HTTP/1.1"), L7FlowType.REQUEST, TrafficDirection.INGRESS
    )
    denied = http_denied()
    query = as_l7(BASE, DNS("a.io.", qtypes=("A",)), L7FlowType.REQUEST, TrafficDirection.EGRESS)
    flows = [allowed, denied, query]
    assert only("cilium_policy_l7_total", flows) == {
        (("proxy_type", "envoy"), ("rule", "received")): 2,
        (("proxy_type", "envoy"), ("rule", "forwarded")): 1,
        (("proxy_type", "envoy"), ("rule", "denied")): 1,
        (("proxy_type", "fqdn"), ("rule", "received")): 1,
        (("proxy_type", "fqdn"), ("rule", "forwarded")): 1,
    }
    assert only("hubble_policy_verdicts_total", flows) == {
        (("action", "forwarded"), ("direction", "ingress"), ("match", "l7/http")): 1,
        (("action", "dropped"), ("direction", "ingress"), ("match", "l7/http")): 1,
        (("action", "forwarded"), ("direction", "egress"), ("match", "l7/dns")): 1,
    }


def test_dns_metrics_carry_the_records_qtypes_ref_5_2():
    query = as_l7(BASE, DNS("a.io.", qtypes=("AAAA",)), L7FlowType.REQUEST, TrafficDirection.EGRESS)
    answer = as_l7(
        BASE,
        DNS("a.io.", ips=("f00d::1",), rcode=0, qtypes=("AAAA",)),
        L7FlowType.RESPONSE,
        TrafficDirection.EGRESS,
    )
    assert only("hubble_dns_queries_total", [query, answer]) == {
        (("ips_returned", "0"), ("qtypes", "AAAA"), ("rcode", "")): 1
    }
    assert only("hubble_dns_responses_total", [query, answer]) == {
        (("ips_returned", "1"), ("qtypes", "AAAA"), ("rcode", "No Error")): 1
    }


def test_policy_verdicts_by_deciding_policy_and_cluster_pair():
    policy = policy_from_ref("CiliumNetworkPolicy", "allow-c1", "default")
    flow = as_policy_verdict(
        BASE, Verdict.FORWARDED, 2, TrafficDirection.INGRESS, policies=[policy]
    )
    assert only("cmesh_policy_verdicts_total", [flow]) == {
        (
            ("action", "forwarded"),
            ("destination_cluster", "c2"),
            ("direction", "ingress"),
            ("policy_kind", "CiliumNetworkPolicy"),
            ("policy_name", "allow-c1"),
            ("policy_namespace", "default"),
            ("source_cluster", "c1"),
        ): 1
    }
