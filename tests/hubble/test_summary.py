"""The Summary text of flows, as Hubble's parsers write it (ref §4.2)."""

from __future__ import annotations

import pytest

from cmesh.hubble import (
    DNS,
    HTTP,
    IP,
    SCTP,
    TCP,
    UDP,
    Ethernet,
    Flow,
    ICMPv4,
    ICMPv6,
    L7FlowType,
    Layer7,
    TCPFlags,
    summarize,
)

V4 = IP("10.0.0.1", "10.0.0.2")
V6 = IP("f00d::1", "f00d::2")


@pytest.mark.parametrize(
    ("flow", "summary"),
    [
        (Flow(IP=V4, l4=TCP(1, 2, TCPFlags(SYN=True))), "TCP Flags: SYN"),
        (Flow(IP=V4, l4=TCP(1, 2, TCPFlags.of("ACK", "SYN"))), "TCP Flags: SYN, ACK"),
        (
            Flow(IP=V4, l4=TCP(1, 2, TCPFlags(*[True] * 9))),
            "TCP Flags: SYN, ACK, RST, FIN, PSH, URG, ECE, CWR, NS",
        ),
        (Flow(IP=V4, l4=TCP(1, 2)), "TCP Flags: "),
        (Flow(IP=V4, l4=UDP(1, 53)), "UDP"),
        (Flow(IP=V4, l4=SCTP(1, 2)), "SCTP"),
        (Flow(IP=V4, l4=ICMPv4(8, 0)), "ICMPv4 EchoRequest"),
        (Flow(IP=V4, l4=ICMPv4(0, 0)), "ICMPv4 EchoReply"),
        (Flow(IP=V4, l4=ICMPv4(3, 3)), "ICMPv4 DestinationUnreachable(Port)"),
        (Flow(IP=V4, l4=ICMPv4(8, 5)), "ICMPv4 EchoRequest(Code: 5)"),
        (Flow(IP=V4, l4=ICMPv4(42, 1)), "ICMPv4 42(1)"),
        (Flow(IP=V6, l4=ICMPv6(128, 0)), "ICMPv6 EchoRequest"),
        (Flow(IP=V6, l4=ICMPv6(1, 4)), "ICMPv6 DestinationUnreachable(PortUnreachable)"),
        (Flow(IP=V6), "IPv6"),
        (Flow(ethernet=Ethernet("a", "b")), "Ethernet"),
    ],
    ids=[
        "syn",
        "syn-ack-order",
        "all-flags-order",
        "no-flags",
        "udp",
        "sctp",
        "echo-request",
        "echo-reply",
        "port-unreachable",
        "unexpected-code",
        "unknown-type",
        "icmpv6-echo",
        "icmpv6-unreachable",
        "ip-only",
        "ethernet-only",
    ],
)
def test_l3_l4_summary_ref_4_2(flow, summary):
    assert summarize(flow) == summary


def _l7(kind: L7FlowType, record: HTTP | DNS, latency_ns: int = 0) -> Flow:
    return Flow(l7=Layer7(kind, latency_ns, record))


GET = HTTP(0, "GET", "http://host/path", "HTTP/1.1")


@pytest.mark.parametrize(
    ("flow", "summary"),
    [
        (_l7(L7FlowType.REQUEST, GET), "HTTP/1.1 GET http://host/path"),
        (
            _l7(L7FlowType.RESPONSE, HTTP(200, "GET", GET.url, "HTTP/1.1"), 5_400_000),
            "HTTP/1.1 200 5ms (GET http://host/path)",
        ),
        (
            _l7(L7FlowType.REQUEST, DNS("example.com.", qtypes=("A",), observation_source="proxy")),
            "DNS Query example.com. A",
        ),
        (
            _l7(
                L7FlowType.RESPONSE,
                DNS("example.com.", ("1.2.3.4",), 30, (), "proxy", 0, ("A",), ("A",)),
            ),
            'DNS Answer "1.2.3.4" TTL: 30 (Proxy example.com. A)',
        ),
        (
            _l7(
                L7FlowType.RESPONSE,
                DNS("www.x.io.", ("1.2.3.4", "5.6.7.8"), 5, ("x.io.",), "", 0, ("A", "AAAA")),
            ),
            'DNS Answer "1.2.3.4,5.6.7.8" CNAMEs: "x.io." TTL: 5 (Query www.x.io. A,AAAA)',
        ),
        (
            _l7(L7FlowType.RESPONSE, DNS("nope.io.", rcode=3, observation_source="proxy")),
            "DNS Answer RCode: Non-Existent Domain TTL: 0 (Proxy nope.io. )",
        ),
    ],
    ids=["http-request", "http-response", "dns-query", "dns-answer", "dns-cnames", "dns-nxdomain"],
)
def test_l7_summary_ref_4_2(flow, summary):
    assert summarize(flow) == summary
