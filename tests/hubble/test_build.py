"""The flow of each monitor event, derived as Hubble's parsers derive it (ref §4.2)."""

from __future__ import annotations

import pytest

from cmesh.hubble import (
    DNS,
    HTTP,
    IP,
    TCP,
    AuthType,
    DropReason,
    Flow,
    FlowType,
    L7FlowType,
    Policy,
    PolicyMatchType,
    TraceObservationPoint,
    TracePoint,
    TraceReason,
    TrafficDirection,
    Verdict,
    as_drop,
    as_l7,
    as_policy_verdict,
    as_trace,
    make_uuid,
    node_name,
    policy_from_ref,
    summarize,
)
from cmesh.hubble.flow import UDP, ICMPv4, Layer7, TCPFlags
from cmesh.policy import DropReason as EngineDropReason

BASE = Flow(time=1, node_name=node_name("c1", "n1"), IP=IP("10.1.0.1", "10.1.0.2"), l4=TCP(1, 80))


def test_node_name_is_cluster_slash_node_ref_4_2():
    assert node_name("cluster-1", "node-2") == "cluster-1/node-2"
    assert BASE.cluster_name == "c1"


@pytest.mark.parametrize(
    ("reason", "is_reply"),
    [
        (TraceReason.NEW, False),
        (TraceReason.ESTABLISHED, False),
        (TraceReason.REPLY, True),
        (TraceReason.TRACE_REASON_UNKNOWN, None),
    ],
    ids=["new", "established", "reply", "unknown"],
)
def test_trace_is_forwarded_and_is_reply_comes_from_ct_ref_4_2(reason, is_reply):
    flow = as_trace(BASE, TracePoint.TO_LXC, TrafficDirection.INGRESS, reason=reason)
    assert flow.verdict is Verdict.FORWARDED and flow.Type is FlowType.L3_L4
    assert (flow.event_type.type, flow.event_type.sub_type) == (4, 0)
    assert flow.trace_observation_point is TraceObservationPoint.TO_ENDPOINT
    assert flow.is_reply is is_reply
    assert flow.Summary == "TCP Flags: "


def test_trace_to_proxy_carries_the_proxy_port():
    flow = as_trace(BASE, TracePoint.TO_PROXY, TrafficDirection.EGRESS, proxy_port=15001)
    assert (flow.proxy_port, flow.trace_observation_point.name) == (15001, "TO_PROXY")


@pytest.mark.parametrize(
    ("reason", "code", "desc"),
    [
        (DropReason.POLICY_DENIED, 133, "POLICY_DENIED"),
        (EngineDropReason.POLICY_DENY, 181, "POLICY_DENY"),
        (189, 189, "AUTH_REQUIRED"),
        (250, 250, "DROP_REASON_UNKNOWN"),
    ],
    ids=["hubble-enum", "engine-enum", "number", "unknown-number"],
)
def test_drop_is_dropped_with_unknown_direction_of_reply_ref_4_2(reason, code, desc):
    flow = as_drop(BASE, reason, TrafficDirection.EGRESS)
    assert flow.verdict is Verdict.DROPPED and flow.is_reply is None
    assert (flow.drop_reason, flow.drop_reason_desc.name) == (code, desc)
    assert (flow.event_type.type, flow.event_type.sub_type) == (1, code)
    assert flow.traffic_direction is TrafficDirection.EGRESS


def test_drop_attributes_denying_policies_to_its_direction():
    deny = Policy("deny", "default", kind="CiliumNetworkPolicy")
    flow = as_drop(BASE, DropReason.POLICY_DENY, TrafficDirection.INGRESS, denied_by=[deny])
    assert flow.ingress_denied_by == (deny,) and flow.egress_denied_by == ()


@pytest.mark.parametrize(
    ("verdict", "is_reply", "attributed"),
    [
        (Verdict.FORWARDED, False, "egress_allowed_by"),
        (Verdict.REDIRECTED, False, "egress_allowed_by"),
        (Verdict.AUDIT, False, "egress_allowed_by"),
        (Verdict.DROPPED, None, "egress_denied_by"),
    ],
    ids=["forwarded", "redirected", "audit", "dropped"],
)
def test_policy_verdict_reply_and_attribution_ref_4_2(verdict, is_reply, attributed):
    policy = policy_from_ref("CiliumNetworkPolicy", "p", "default")
    flow = as_policy_verdict(
        BASE,
        verdict,
        PolicyMatchType.L3_L4,
        TrafficDirection.EGRESS,
        drop_reason=DropReason.POLICY_DENIED,
        policies=[policy],
    )
    assert flow.is_reply is is_reply
    assert getattr(flow, attributed) == (policy,)
    assert (flow.event_type.type, flow.policy_match_type) == (5, 2)
    assert flow.drop_reason == (133 if verdict is Verdict.DROPPED else 0)


def test_policy_labels_name_the_deriving_policy():
    assert policy_from_ref("CiliumNetworkPolicy", "p", "ns").labels == (
        "k8s:io.cilium.k8s.policy.derived-from=CiliumNetworkPolicy",
        "k8s:io.cilium.k8s.policy.name=p",
        "k8s:io.cilium.k8s.policy.namespace=ns",
    )


def test_policy_verdict_keeps_auth_type():
    flow = as_policy_verdict(
        BASE, Verdict.FORWARDED, 2, TrafficDirection.INGRESS, auth_type=AuthType.SPIRE
    )
    assert flow.auth_type is AuthType.SPIRE


@pytest.mark.parametrize(
    ("kind", "record", "summary"),
    [
        (L7FlowType.REQUEST, HTTP(0, "GET", "http://s/", "HTTP/1.1"), "HTTP/1.1 GET http://s/"),
        (
            L7FlowType.RESPONSE,
            HTTP(403, "GET", "http://s/", "HTTP/1.1"),
            "HTTP/1.1 403 2ms (GET http://s/)",
        ),
        (L7FlowType.REQUEST, DNS("a.io.", qtypes=("A",)), "DNS Query a.io. A"),
    ],
    ids=["http-request", "http-response", "dns-request"],
)
def test_l7_flows_ref_4_2(kind, record, summary):
    flow = as_l7(BASE, record, kind, TrafficDirection.EGRESS, latency_ns=2_500_000)
    assert flow.Type is FlowType.L7 and flow.event_type.type == 129
    assert flow.is_reply is (kind is L7FlowType.RESPONSE)
    assert flow.Summary == summary


REQUEST = HTTP(0, "GET", "http://s/", "HTTP/1.1")


@pytest.mark.parametrize(
    "base",
    [
        BASE.with_(l4=TCP(1, 80, TCPFlags(SYN=True, ACK=True))),
        BASE.with_(l4=UDP(5353, 53)),
        BASE.with_(l4=ICMPv4(8, 0)),
        BASE.with_(l4=None),
        BASE.with_(l7=Layer7(L7FlowType.REQUEST, 0, REQUEST)),  # a response built on a request
    ],
    ids=["tcp", "udp", "icmp", "ip-only", "l7-base"],
)
@pytest.mark.parametrize(
    "derive",
    [
        lambda b: as_trace(b, TracePoint.FROM_LXC, TrafficDirection.EGRESS),
        lambda b: as_drop(b, DropReason.POLICY_DENIED, TrafficDirection.INGRESS),
        lambda b: as_policy_verdict(b, Verdict.FORWARDED, 2, TrafficDirection.INGRESS),
        lambda b: as_l7(
            b,
            HTTP(200, "GET", "http://s/", "HTTP/1.1"),
            L7FlowType.RESPONSE,
            TrafficDirection.EGRESS,
            latency_ns=3_000_000,
        ),
    ],
    ids=["trace", "drop", "policy-verdict", "l7-response"],
)
def test_each_event_carries_the_summary_of_its_own_layers_ref_4_2(base, derive):
    flow = derive(base)
    assert flow.Summary and flow.Summary == summarize(flow)


def test_uuids_are_deterministic():
    assert make_uuid("c1", 7) == make_uuid("c1", 7) != make_uuid("c1", 8)
