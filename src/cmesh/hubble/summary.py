"""The ``Summary`` text Hubble's parsers put on a flow (ref §4.2).

L3/L4 (``pkg/hubble/parser/threefour/parser.go`` ``decodeLayers``): the summary is the name of
the innermost decoded layer, refined for TCP (``TCP Flags: SYN, ACK``, flags in the order
SYN, ACK, RST, FIN, PSH, URG, ECE, CWR, NS) and ICMP (``ICMPv4 EchoRequest``, gopacket's
``TypeCode.String()``); a UDP flow reads ``UDP``.

L7 (``pkg/hubble/parser/seven/http.go``, ``dns.go``):

* HTTP request ``HTTP/1.1 GET http://host/path``; response
  ``HTTP/1.1 200 5ms (GET http://host/path)`` (latency in whole milliseconds);
* DNS query ``DNS Query example.com. A`` (qtypes joined by ``,``); answer
  ``DNS Answer "1.2.3.4" TTL: 30 (Proxy example.com. A)``, or ``RCode: Non-Existent Domain``
  in place of the quoted IPs when the rcode is not 0.

>>> from cmesh.hubble.flow import Flow, IP, TCP, TCPFlags, ICMPv4
>>> summarize(Flow(IP=IP("10.0.0.1", "10.0.0.2"), l4=TCP(1, 80, TCPFlags.of("ACK", "SYN"))))
'TCP Flags: SYN, ACK'
>>> summarize(Flow(IP=IP("10.0.0.1", "10.0.0.2"), l4=ICMPv4(type=8)))
'ICMPv4 EchoRequest'
"""

from __future__ import annotations

from cmesh.hubble.enums import L7FlowType
from cmesh.hubble.flow import (
    DNS,
    HTTP,
    SCTP,
    TCP,
    UDP,
    Flow,
    ICMPv4,
    ICMPv6,
    Layer7,
    TCPFlags,
)

#: getTCPFlags order (not the proto order).
_SUMMARY_FLAG_ORDER = ("SYN", "ACK", "RST", "FIN", "PSH", "URG", "ECE", "CWR", "NS")

# gopacket layers/icmp4.go and icmp6.go: type → (name, {code: name} or None).
_ICMPV4: dict[int, tuple[str, dict[int, str] | None]] = {
    0: ("EchoReply", None),
    3: (
        "DestinationUnreachable",
        {
            0: "Net",
            1: "Host",
            2: "Protocol",
            3: "Port",
            4: "FragmentationNeeded",
            5: "SourceRoutingFailed",
            6: "NetUnknown",
            7: "HostUnknown",
            8: "SourceIsolated",
            9: "NetAdminProhibited",
            10: "HostAdminProhibited",
            11: "NetTOS",
            12: "HostTOS",
            13: "CommAdminProhibited",
            14: "HostPrecedence",
            15: "PrecedenceCutoff",
        },
    ),
    4: ("SourceQuench", None),
    5: ("Redirect", {0: "Network", 1: "Host", 2: "TOS+Network", 3: "TOS+Host"}),
    8: ("EchoRequest", None),
    9: ("RouterAdvertisement", None),
    10: ("RouterSolicitation", None),
    11: ("TimeExceeded", {0: "TTLExceeded", 1: "FragmentReassemblyTimeExceeded"}),
    12: ("ParameterProblem", {0: "PointerIndicatesError", 1: "MissingOption", 2: "BadLength"}),
    13: ("TimestampRequest", None),
    14: ("TimestampReply", None),
    15: ("InfoRequest", None),
    16: ("InfoReply", None),
    17: ("AddressMaskRequest", None),
    18: ("AddressMaskReply", None),
}
_ICMPV6: dict[int, tuple[str, dict[int, str] | None]] = {
    1: (
        "DestinationUnreachable",
        {
            0: "NoRouteToDst",
            1: "AdminProhibited",
            2: "BeyondScopeOfSrc",
            3: "AddressUnreachable",
            4: "PortUnreachable",
            5: "SrcAddressFailedPolicy",
            6: "RejectRouteToDst",
        },
    ),
    2: ("PacketTooBig", None),
    3: ("TimeExceeded", {0: "HopLimitExceeded", 1: "FragmentReassemblyTimeExceeded"}),
    4: (
        "ParameterProblem",
        {0: "ErroneousHeaderField", 1: "UnrecognizedNextHeader", 2: "UnrecognizedIPv6Option"},
    ),
    128: ("EchoRequest", None),
    129: ("EchoReply", None),
    133: ("RouterSolicitation", None),
    134: ("RouterAdvertisement", None),
    135: ("NeighborSolicitation", None),
    136: ("NeighborAdvertisement", None),
    137: ("Redirect", None),
}

# gopacket layers/dns.go DNSResponseCode.String().
_RCODES = {
    0: "No Error",
    1: "Format Error",
    2: "Server Failure",
    3: "Non-Existent Domain",
    4: "Not Implemented",
    5: "Query Refused",
    6: "Name Exists when it should not",
    7: "RR Set Exists when it should not",
    8: "RR Set that should exist does not",
    9: "Server Not Authoritative for zone",
    10: "Name not contained in zone",
}


def tcp_flags_text(flags: TCPFlags | None) -> str:
    """``SYN, ACK``: the set flags in Hubble's summary order."""
    if flags is None:
        return ""
    return ", ".join(n for n in _SUMMARY_FLAG_ORDER if getattr(flags, n))


def icmp_type_code_text(
    icmp_type: int, code: int, table: dict[int, tuple[str, dict[int, str] | None]]
) -> str:
    """gopacket's ``ICMPv{4,6}TypeCode.String()``: ``EchoRequest``, ``DestinationUnreachable(Port)``."""
    known = table.get(icmp_type)
    if known is None:
        return f"{icmp_type}({code})"
    name, codes = known
    if codes is None:
        return name if code == 0 else f"{name}(Code: {code})"
    return f"{name}({codes[code]})" if code in codes else f"{name}(Code: {code})"


def go_quote(text: str) -> str:
    """Go's ``%q`` for ASCII texts (IPs and DNS names here, filter values in their errors)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def http_summary(l7: Layer7, http: HTTP) -> str:
    request = f"{http.method} {http.url}"
    if l7.type is L7FlowType.REQUEST:
        return f"{http.protocol} {request}"
    if l7.type is L7FlowType.RESPONSE:
        return f"{http.protocol} {http.code} {l7.latency_ns // 1_000_000}ms ({request})"
    return ""


def dns_summary(l7: Layer7, dns: DNS) -> str:
    qtypes = ",".join(dns.qtypes)
    if l7.type is L7FlowType.REQUEST:
        return f"DNS Query {dns.query} {qtypes}"
    if l7.type is not L7FlowType.RESPONSE:
        return ""
    if dns.rcode != 0:
        answer = f"RCode: {_RCODES.get(dns.rcode, 'Unknown')}"
    else:
        parts = []
        if dns.ips:
            parts.append(go_quote(",".join(dns.ips)))
        if dns.cnames:
            parts.append("CNAMEs: " + go_quote(",".join(dns.cnames)))
        answer = " ".join(parts)
    source = "Proxy" if dns.observation_source == "proxy" else "Query"
    return f"DNS Answer {answer} TTL: {dns.ttl} ({source} {dns.query} {qtypes})"


def l7_summary(l7: Layer7) -> str:
    """The Summary of an L7 record (``seven/http.go``, ``dns.go``)."""
    if isinstance(l7.record, HTTP):
        return http_summary(l7, l7.record)
    if isinstance(l7.record, DNS):
        return dns_summary(l7, l7.record)
    return ""


def summarize(flow: Flow) -> str:
    """The Summary Hubble would compute for ``flow`` from its L7 record or its layers."""
    if flow.l7 is not None:
        return l7_summary(flow.l7)
    l4 = flow.l4
    if isinstance(l4, TCP):
        return "TCP Flags: " + tcp_flags_text(l4.flags)
    if isinstance(l4, UDP):
        return "UDP"
    if isinstance(l4, SCTP):
        return "SCTP"
    if isinstance(l4, ICMPv4):
        return "ICMPv4 " + icmp_type_code_text(l4.type, l4.code, _ICMPV4)
    if isinstance(l4, ICMPv6):
        return "ICMPv6 " + icmp_type_code_text(l4.type, l4.code, _ICMPV6)
    if flow.IP is not None:
        return flow.IP.ipVersion.name if flow.IP.ipVersion.value else ""
    return "Ethernet" if flow.ethernet is not None else ""
