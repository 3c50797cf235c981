"""Flow JSON as ``hubble observe -o json`` prints it, and reading it back (ref §4.3)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings

from cmesh.errors import InvalidArgument
from cmesh.hubble import (
    DNS,
    HTTP,
    IP,
    TCP,
    Endpoint,
    Flow,
    L7FlowType,
    Layer7,
    Policy,
    TCPFlags,
    TrafficDirection,
    Verdict,
    as_l7,
    as_trace,
    format_timestamp,
    parse_timestamp,
    to_json_line,
)
from cmesh.hubble.enums import TracePoint, TraceReason
from cmesh.hubble.jsonpb import ALL_FLOW_FIELDS, ENCODED_FLOW_FIELDS
from tests.hubble.samples import flows, ref_4_3_flow, ref_4_3_json


def test_json_shape_equals_reference_example_ref_4_3():
    assert ref_4_3_flow().to_json() == ref_4_3_json()


def test_json_keys_follow_proto_declaration_order_ref_4_3():
    """protojson writes fields in flow.proto order; the reference shows the same order."""
    keys = list(ref_4_3_flow().to_json()["flow"])
    assert keys == [
        "time",
        "uuid",
        "verdict",
        "drop_reason",
        "IP",
        "l4",
        "source",
        "destination",
        "Type",
        "node_name",
        "event_type",
        "traffic_direction",
        "drop_reason_desc",
        "Summary",
    ]
    assert list(ref_4_3_flow().to_json()) == ["flow", "node_name", "time"]


def test_json_line_is_compact_and_one_line_ref_4_3():
    line = to_json_line(ref_4_3_flow())
    assert line == json.dumps(ref_4_3_json(), separators=(",", ":"))


def test_go_encoder_escapes_html_characters_ref_4_3():
    """Go's json.Encoder escapes <, > and & even in protojson output."""
    flow = Flow(time=1, l7=Layer7(L7FlowType.REQUEST, 0, HTTP(url="http://a/?x=1&y=<2>")))
    line = to_json_line(flow)
    assert "\\u0026" in line and "\\u003c" in line and "\\u003e" in line
    assert Flow.from_json(line) == flow


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (1_767_261_600 * 10**9, "2026-01-01T10:00:00Z"),
        (1_767_261_600 * 10**9 + 120_000_000, "2026-01-01T10:00:00.120Z"),
        (1_767_261_600 * 10**9 + 123_400_000, "2026-01-01T10:00:00.123400Z"),
        (1_767_261_600 * 10**9 + 123_456_789, "2026-01-01T10:00:00.123456789Z"),
    ],
    ids=["whole-second", "millis", "micros", "nanos"],
)
def test_timestamps_use_3_6_or_9_fraction_digits_ref_4_3(ns, text):
    assert format_timestamp(ns) == text
    assert parse_timestamp(text) == ns


def test_timestamp_with_offset_is_read_as_utc():
    assert parse_timestamp("2026-01-01T12:00:00+02:00") == 1_767_261_600 * 10**9


def test_zero_fields_are_omitted_but_set_messages_print_ref_4_3():
    flow = Flow(source=Endpoint(), IP=IP(), is_reply=False)
    assert flow.to_flow_json() == {"IP": {}, "source": {}, "is_reply": False}
    assert Flow().to_json() == {"flow": {}}


def test_64_bit_integers_are_strings_ref_4_3():
    flow = as_l7(
        Flow(time=1),
        HTTP(200, "GET", "http://x/", "HTTP/1.1"),
        L7FlowType.RESPONSE,
        TrafficDirection.EGRESS,
        latency_ns=5_000_000,
    ).with_(ingress_allowed_by=(Policy("p", "ns", revision=7, kind="CiliumNetworkPolicy"),))
    data = flow.to_flow_json()
    assert data["l7"] == {
        "type": "RESPONSE",
        "latency_ns": "5000000",
        "http": {"code": 200, "method": "GET", "url": "http://x/", "protocol": "HTTP/1.1"},
    }
    assert data["ingress_allowed_by"] == [
        {"name": "p", "namespace": "ns", "revision": "7", "kind": "CiliumNetworkPolicy"}
    ]


def test_reply_flows_also_set_the_deprecated_reply_field():
    base = Flow(time=1, IP=IP("10.0.0.1", "10.0.0.2"), l4=TCP(80, 5000, TCPFlags(ACK=True)))
    reply = as_trace(base, TracePoint.TO_LXC, TrafficDirection.INGRESS, reason=TraceReason.REPLY)
    data = reply.to_flow_json()
    assert data["reply"] is True and data["is_reply"] is True
    assert data["event_type"] == {"type": 4}  # sub_type 0 (to-endpoint) is omitted


def test_dns_record_json():
    flow = Flow(
        l7=Layer7(
            L7FlowType.RESPONSE,
            0,
            DNS("cilium.io.", ("1.2.3.4",), 30, (), "proxy", 0, ("A",), ("A",)),
        )
    )
    assert flow.to_flow_json()["l7"] == {
        "type": "RESPONSE",
        "dns": {
            "query": "cilium.io.",
            "ips": ["1.2.3.4"],
            "ttl": 30,
            "observation_source": "proxy",
            "qtypes": ["A"],
            "rrtypes": ["A"],
        },
    }


@settings(max_examples=200, deadline=None)
@given(flows)
def test_round_trip_is_lossless(flow):
    assert Flow.from_json(flow.to_json()) == flow
    assert Flow.from_json(to_json_line(flow)) == flow
    assert Flow.from_json(flow.to_flow_json()) == flow


def test_codec_covers_every_flow_field():
    assert ALL_FLOW_FIELDS == ENCODED_FLOW_FIELDS


def test_from_json_reads_a_bare_flow_and_tolerates_unknown_and_missing_fields():
    data = ref_4_3_json()["flow"]
    data["emitter"] = {"name": "Hubble", "version": "1.19.4"}
    data["tunnel"] = {"protocol": "VXLAN"}
    data["source"]["future_field"] = 1
    del data["uuid"]
    assert Flow.from_json(data) == ref_4_3_flow().with_(uuid="")


def test_from_json_accepts_camel_case_numbers_for_enums_and_int64_numbers():
    flow = Flow.from_json(
        {"nodeName": "c/n", "verdict": 2, "dropReasonDesc": "POLICY_DENY", "l7": {"latencyNs": 9}}
    )
    assert flow.node_name == "c/n" and flow.verdict is Verdict.DROPPED
    assert flow.drop_reason_desc.name == "POLICY_DENY" and flow.l7.latency_ns == 9


def test_from_json_takes_time_and_node_from_the_response_when_the_flow_lacks_them():
    flow = Flow.from_json({"flow": {}, "node_name": "c1/n1", "time": "1970-01-01T00:00:01Z"})
    assert (flow.node_name, flow.time) == ("c1/n1", 10**9)


def test_unknown_enum_values_read_as_zero():
    assert Flow.from_json({"verdict": "SOMETHING_NEW"}).verdict is Verdict.VERDICT_UNKNOWN


@pytest.mark.parametrize(
    "bad",
    ["not json", "[1, 2]", '{"lost_events": {}}', '{"source": "x"}', '{"time": "yesterday"}'],
    ids=["text", "array", "lost-events", "endpoint-not-object", "bad-time"],
)
def test_from_json_rejects_what_is_not_a_flow(bad):
    with pytest.raises(InvalidArgument, match="cannot read flow JSON"):
        Flow.from_json(bad)
