"""FlowFilter fields and how filters combine (ref §4.5, ``pkg/hubble/filters``)."""

from __future__ import annotations

import pytest

from cmesh.errors import InvalidArgument
from cmesh.hubble import (
    DNS,
    HTTP,
    IP,
    TCP,
    DropReason,
    Endpoint,
    EventTypeFilter,
    Flow,
    FlowFilter,
    HTTPHeader,
    ICMPv6,
    IPVersion,
    L7FlowType,
    NetworkInterface,
    Service,
    TCPFlags,
    TracePoint,
    TraceReason,
    TrafficDirection,
    Verdict,
    Workload,
    as_drop,
    as_l7,
    as_trace,
    compile_filter,
    matches,
)

CLIENT = Endpoint(
    ID=11,
    identity=65537,
    cluster_name="cluster-1",
    namespace="default",
    labels=("k8s:app=client", "k8s:io.kubernetes.pod.namespace=default"),
    pod_name="client-7f9c",
    workloads=(Workload("client", "Deployment"),),
)
SERVER = Endpoint(
    ID=12,
    identity=131074,
    cluster_name="cluster-2",
    namespace="shop",
    labels=("k8s:app=server", "k8s:io.kubernetes.pod.namespace=shop"),
    pod_name="server-0",
    workloads=(Workload("server", "StatefulSet"),),
)
BASE = Flow(
    time=1,
    uuid="uuid-1",
    node_name="cluster-1/node-1",
    node_labels=("kubernetes.io/hostname=node-1", "topology.kubernetes.io/zone=a"),
    IP=IP("10.1.0.10", "10.2.0.20", source_xlated="192.168.1.1"),
    l4=TCP(40000, 8080, TCPFlags(SYN=True, ACK=True)),
    source=CLIENT,
    destination=SERVER,
    destination_names=("server.shop.example.com",),
    destination_service=Service("server-svc", "shop"),
    interface=NetworkInterface(3, "eth0"),
)
TRACE = as_trace(BASE, TracePoint.TO_STACK, TrafficDirection.EGRESS)
REPLY = as_trace(BASE, TracePoint.TO_LXC, TrafficDirection.INGRESS, reason=TraceReason.REPLY)
DROP = as_drop(BASE, DropReason.POLICY_DENIED, TrafficDirection.INGRESS)
HTTP_RESPONSE = as_l7(
    BASE,
    HTTP(404, "GET", "http://server/page/12?q=1", "HTTP/1.1", (HTTPHeader("x-user", "bob"),)),
    L7FlowType.RESPONSE,
    TrafficDirection.EGRESS,
)
DNS_QUERY = as_l7(
    BASE, DNS("api.shop.io.", qtypes=("A",)), L7FlowType.REQUEST, TrafficDirection.EGRESS
)
ICMP6 = as_trace(
    BASE.with_(IP=IP("f00d::1", "f00d::2", encrypted=True), l4=ICMPv6(128, 0), node_name="k8s1"),
    TracePoint.TO_LXC,
    TrafficDirection.INGRESS,
)

CASES = [
    ("uuid", FlowFilter(uuid=["uuid-1"]), TRACE, True),
    ("uuid-other", FlowFilter(uuid=["uuid-2"]), TRACE, False),
    ("type-trace", FlowFilter(event_type=[EventTypeFilter(4)]), TRACE, True),
    ("type-drop-on-trace", FlowFilter(event_type=[EventTypeFilter(1)]), TRACE, False),
    ("type-subtype", FlowFilter(event_type=[EventTypeFilter(4, True, 3)]), TRACE, True),
    ("type-subtype-other", FlowFilter(event_type=[EventTypeFilter(4, True, 0)]), TRACE, False),
    ("type-any", FlowFilter(event_type=[EventTypeFilter(0, True, 3)]), TRACE, True),
    ("verdict", FlowFilter(verdict=[Verdict.DROPPED]), DROP, True),
    ("verdict-or", FlowFilter(verdict=[Verdict.AUDIT, Verdict.FORWARDED]), TRACE, True),
    ("drop-reason", FlowFilter(drop_reason_desc=[DropReason.POLICY_DENIED]), DROP, True),
    ("drop-reason-other", FlowFilter(drop_reason_desc=[DropReason.POLICY_DENY]), DROP, False),
    ("drop-reason-not-dropped", FlowFilter(drop_reason_desc=[DropReason(0)]), TRACE, False),
    ("reply", FlowFilter(reply=[True]), REPLY, True),
    ("not-reply", FlowFilter(reply=[False]), TRACE, True),
    ("reply-unknown-drop", FlowFilter(reply=[False]), DROP, True),
    ("reply-unknown-other", FlowFilter(reply=[False]), TRACE.with_(is_reply=None), False),
    ("src-identity", FlowFilter(source_identity=[65537]), TRACE, True),
    ("dst-identity", FlowFilter(destination_identity=[65537]), TRACE, False),
    ("identity-no-endpoint", FlowFilter(source_identity=[0]), TRACE.with_(source=None), False),
    ("protocol-tcp", FlowFilter(protocol=["TCP"]), TRACE, True),
    ("protocol-udp", FlowFilter(protocol=["udp"]), TRACE, False),
    ("protocol-icmp", FlowFilter(protocol=["icmp"]), ICMP6, True),
    ("protocol-icmpv4", FlowFilter(protocol=["icmpv4"]), ICMP6, False),
    ("protocol-http", FlowFilter(protocol=["http"]), HTTP_RESPONSE, True),
    ("protocol-dns", FlowFilter(protocol=["dns", "kafka"]), DNS_QUERY, True),
    ("src-ip", FlowFilter(source_ip=["10.1.0.10"]), TRACE, True),
    ("src-cidr", FlowFilter(source_ip=["10.1.0.0/16"]), TRACE, True),
    ("dst-cidr-miss", FlowFilter(destination_ip=["10.1.0.0/16"]), TRACE, False),
    ("ipv6-cidr", FlowFilter(destination_ip=["f00d::/64"]), ICMP6, True),
    ("snat-ip", FlowFilter(source_ip_xlated=["192.168.1.0/24"]), TRACE, True),
    ("src-pod", FlowFilter(source_pod=["client"]), TRACE, True),
    ("src-pod-prefix", FlowFilter(source_pod=["default/cli"]), TRACE, True),
    ("dst-pod-default-ns", FlowFilter(destination_pod=["server"]), TRACE, False),
    ("dst-pod-ns", FlowFilter(destination_pod=["shop/server"]), TRACE, True),
    ("namespace-only", FlowFilter(destination_pod=["shop/"]), TRACE, True),
    ("any-namespace", FlowFilter(source_pod=["/"]), TRACE, True),
    ("any-namespace-host", FlowFilter(source_pod=["/"]), TRACE.with_(source=Endpoint()), False),
    ("dst-service", FlowFilter(destination_service=["shop/server"]), TRACE, True),
    ("src-service-none", FlowFilter(source_service=["shop/"]), TRACE, False),
    ("dst-fqdn-wildcard", FlowFilter(destination_fqdn=["*.example.com"]), TRACE, True),
    ("dst-fqdn-dot-case", FlowFilter(destination_fqdn=["SERVER.shop.Example.com."]), TRACE, True),
    ("dst-fqdn-miss", FlowFilter(destination_fqdn=["*.cilium.io"]), TRACE, False),
    ("src-fqdn-no-names", FlowFilter(source_fqdn=["*"]), TRACE, False),
    ("dns-query", FlowFilter(dns_query=[r"shop\.io\.$"]), DNS_QUERY, True),
    ("src-label", FlowFilter(source_label=["k8s:app=client"]), TRACE, True),
    ("src-label-or", FlowFilter(source_label=["app=x", "app=client"]), TRACE, True),
    ("dst-label", FlowFilter(destination_label=["app=client"]), TRACE, False),
    ("node-label", FlowFilter(node_labels=["topology.kubernetes.io/zone=a"]), TRACE, True),
    ("node-label-miss", FlowFilter(node_labels=["topology.kubernetes.io/zone=b"]), TRACE, False),
    (
        "node-label-sourced",
        FlowFilter(node_labels=["any:topology.kubernetes.io/zone=a"]),
        TRACE,
        True,
    ),
    ("src-port", FlowFilter(source_port=["40000"]), TRACE, True),
    ("dst-port", FlowFilter(destination_port=["80", "8080"]), TRACE, True),
    ("port-icmp", FlowFilter(destination_port=["0"]), ICMP6, False),
    ("http-status", FlowFilter(http_status_code=["404"]), HTTP_RESPONSE, True),
    ("http-status-prefix", FlowFilter(http_status_code=["4+"]), HTTP_RESPONSE, True),
    ("http-status-2-digit", FlowFilter(http_status_code=["40+"]), HTTP_RESPONSE, True),
    ("http-status-miss", FlowFilter(http_status_code=["5+"]), HTTP_RESPONSE, False),
    ("http-status-on-request", FlowFilter(http_status_code=["2+"]), DNS_QUERY, False),
    ("http-method", FlowFilter(http_method=["get"]), HTTP_RESPONSE, True),
    ("http-path", FlowFilter(http_path=[r"^/page/\d+$"]), HTTP_RESPONSE, True),
    ("http-url", FlowFilter(http_url=[r"server/page"]), HTTP_RESPONSE, True),
    ("http-header", FlowFilter(http_header=[HTTPHeader("x-user", "bob")]), HTTP_RESPONSE, True),
    (
        "http-header-value",
        FlowFilter(http_header=[HTTPHeader("x-user", "al")]),
        HTTP_RESPONSE,
        False,
    ),
    (
        "http-with-l7-type",
        FlowFilter(http_method=["GET"], event_type=[EventTypeFilter(129)]),
        HTTP_RESPONSE,
        True,
    ),
    ("tcp-flags-subset", FlowFilter(tcp_flags=[TCPFlags(SYN=True)]), TRACE, True),
    ("tcp-flags-all", FlowFilter(tcp_flags=[TCPFlags(SYN=True, FIN=True)]), TRACE, False),
    ("tcp-flags-or", FlowFilter(tcp_flags=[TCPFlags(FIN=True), TCPFlags(ACK=True)]), TRACE, True),
    ("node-glob", FlowFilter(node_name=["cluster-1/*"]), TRACE, True),
    ("node-glob-node", FlowFilter(node_name=["node-*"]), TRACE, True),
    ("node-glob-miss", FlowFilter(node_name=["cluster-2/"]), TRACE, False),
    ("node-default-cluster", FlowFilter(node_name=["default/k8s*"]), ICMP6, True),
    ("ip-version", FlowFilter(ip_version=[IPVersion.IPv6]), ICMP6, True),
    ("ip-version-none", FlowFilter(ip_version=[IPVersion.IP_NOT_USED]), Flow(), True),
    ("direction", FlowFilter(traffic_direction=[TrafficDirection.EGRESS]), TRACE, True),
    ("direction-miss", FlowFilter(traffic_direction=[TrafficDirection.EGRESS]), DROP, False),
    ("src-cluster", FlowFilter(source_cluster_name=["cluster-1"]), TRACE, True),
    ("dst-cluster", FlowFilter(destination_cluster_name=["cluster-1"]), TRACE, False),
    ("encrypted", FlowFilter(encrypted=[True]), ICMP6, True),
    ("unencrypted", FlowFilter(encrypted=[False]), TRACE, True),
    ("interface", FlowFilter(interface=[NetworkInterface(name="eth0")]), TRACE, True),
    ("interface-index", FlowFilter(interface=[NetworkInterface(4)]), TRACE, False),
    ("workload-kind", FlowFilter(destination_workload=[Workload(kind="StatefulSet")]), TRACE, True),
    ("workload-name", FlowFilter(source_workload=[Workload("server")]), TRACE, False),
    ("fields-and", FlowFilter(verdict=[Verdict.DROPPED], source_pod=["client"]), TRACE, False),
]


@pytest.mark.parametrize(
    ("flow_filter", "flow", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_filter_field_ref_4_5(flow_filter, flow, expected):
    assert compile_filter(flow_filter)(flow) is expected


def test_label_keys_can_be_read_the_newer_way_ref_4_5():
    dotted = FlowFilter(source_label=["io.kubernetes.pod.namespace=default"])
    assert not compile_filter(dotted)(TRACE)
    assert compile_filter(dotted, legacy_label_keys=False)(TRACE)


@pytest.mark.parametrize(
    ("whitelist", "blacklist", "expected"),
    [
        ([], [], True),
        ([FlowFilter(verdict=[Verdict.DROPPED]), FlowFilter(source_pod=["client"])], [], True),
        ([FlowFilter(verdict=[Verdict.DROPPED])], [], False),
        ([], [FlowFilter(source_pod=["client"])], False),
        ([], [FlowFilter(verdict=[Verdict.DROPPED]), FlowFilter(uuid=["x"])], True),
        ([FlowFilter(source_pod=["client"])], [FlowFilter(destination_port=["8080"])], False),
    ],
    ids=[
        "nothing-admits-all",
        "whitelist-ored",
        "whitelist-miss",
        "blacklist-hit",
        "blacklist-miss",
        "both",
    ],
)
def test_whitelist_or_blacklist_nor_ref_4_5(whitelist, blacklist, expected):
    assert matches(TRACE, whitelist, blacklist) is expected


@pytest.mark.parametrize(
    ("flow_filter", "message"),
    [
        (FlowFilter(source_ip=["10.0.0.300"]), 'invalid IP address in filter: "10.0.0.300"'),
        (FlowFilter(source_ip=["10.0.0.0/33"]), 'invalid CIDR in filter: "10.0.0.0/33"'),
        (FlowFilter(source_port=["http"]), 'invalid source port filter: invalid port "http"'),
        (FlowFilter(destination_port=["70000"]), "invalid destination port filter"),
        (FlowFilter(protocol=["quic"]), 'unknown protocol: "quic"'),
        (FlowFilter(http_status_code=["4xx"]), 'invalid status code prefix: "4xx"'),
        (FlowFilter(http_path=["(?=x)"]), "invalid http path filter"),
        (FlowFilter(source_label=["a b"]), "invalid source label filter"),
        (FlowFilter(destination_fqdn=["ex ample.com"]), "invalid rune in pattern"),
        (FlowFilter(destination_fqdn=[" "]), "empty pattern"),
        (FlowFilter(node_name=["a/b/c"]), "too many slashes in pattern"),
        (FlowFilter(source_cluster_name=[""]), "name must not be empty"),
        (FlowFilter(source_pod=[""]), "must be [namespace/][<name>]"),
        (
            FlowFilter(http_method=["GET"], event_type=[EventTypeFilter(1)]),
            "requires the event type filter to only match 'l7' events",
        ),
    ],
    ids=[
        "ip",
        "cidr",
        "port-name",
        "port-range",
        "protocol",
        "status",
        "regex",
        "label",
        "fqdn-rune",
        "fqdn-empty",
        "node-slashes",
        "cluster-empty",
        "pod-empty",
        "http-needs-l7",
    ],
)
def test_invalid_filter_values_are_rejected_with_hubbles_message(flow_filter, message):
    with pytest.raises(InvalidArgument) as info:
        compile_filter(flow_filter)
    assert message in info.value.message


@pytest.mark.parametrize(
    ("flow_filter", "where"),
    [
        (
            FlowFilter(destination_fqdn=["ok.io", "ex ample.com"]),
            'destination fqdn filter "ex ample.com"',
        ),
        (FlowFilter(source_fqdn=["a.."]), 'source fqdn filter "a.."'),
        (FlowFilter(node_name=["a/b/c"]), 'node name filter "a/b/c"'),
        (FlowFilter(destination_cluster_name=[""]), "destination cluster filter"),
    ],
    ids=["fqdn-second-value", "source-fqdn", "node-name", "cluster"],
)
def test_pattern_errors_name_the_filter_and_value_and_say_what_to_write(flow_filter, where):
    with pytest.raises(InvalidArgument) as info:
        compile_filter(flow_filter)
    assert where in info.value.message and info.value.hint
