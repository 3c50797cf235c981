"""``hubble observe`` filter flags to white- and blacklists (ref §4.5, ``flows_filter.go``)."""

from __future__ import annotations

import pytest

from cmesh.errors import InvalidArgument
from cmesh.hubble import (
    DropReason,
    EventTypeFilter,
    FlowFilter,
    HTTPHeader,
    IPVersion,
    NetworkInterface,
    TCPFlags,
    TrafficDirection,
    Verdict,
    Workload,
    parse_filters,
)


def flags(*args: str) -> list[tuple[str, str | None]]:
    """``("--verdict", "DROPPED", "--not", ...)`` as parse_filters takes them."""
    valueless = {"--not", "-A", "--all-namespaces", "-4", "-6", "--encrypted", "--unencrypted"}
    valueless |= {"--reply", "--not-reply", "--from-all-namespaces", "--to-all-namespaces"}
    out: list[tuple[str, str | None]] = []
    items = list(args)
    while items:
        flag = items.pop(0)
        out.append((flag, None if flag in valueless else items.pop(0)))
    return out


def white(*args: str) -> tuple[FlowFilter, ...]:
    result, black = parse_filters(flags(*args))
    assert black == ()
    return result


FLAG_CASES = [
    (["--pod", "x"], (FlowFilter(source_pod=["x"]), FlowFilter(destination_pod=["x"]))),
    (["--from-pod", "x"], (FlowFilter(source_pod=["x"]),)),
    (["--to-pod", "x"], (FlowFilter(destination_pod=["x"]),)),
    (
        ["-l", "app=a"],
        (FlowFilter(source_label=["app=a"]), FlowFilter(destination_label=["app=a"])),
    ),
    (["--to-label", "app=a"], (FlowFilter(destination_label=["app=a"]),)),
    (
        ["--ip", "1.1.1.1"],
        (FlowFilter(source_ip=["1.1.1.1"]), FlowFilter(destination_ip=["1.1.1.1"])),
    ),
    (["--from-fqdn", "*.io"], (FlowFilter(source_fqdn=["*.io"]),)),
    (["--to-service", "ns/svc"], (FlowFilter(destination_service=["ns/svc"]),)),
    (["--port", "53"], (FlowFilter(source_port=["53"]), FlowFilter(destination_port=["53"]))),
    (["--from-identity", "world"], (FlowFilter(source_identity=[2]),)),
    (["--to-identity", "0x10001"], (FlowFilter(destination_identity=[65537]),)),
    (
        ["--to-workload", "Deployment/web"],
        (FlowFilter(destination_workload=[Workload("web", "Deployment")]),),
    ),
    (["--from-workload", "web"], (FlowFilter(source_workload=[Workload("web")]),)),
    (
        ["--cluster", "c1"],
        (FlowFilter(source_cluster_name=["c1"]), FlowFilter(destination_cluster_name=["c1"])),
    ),
    (["--to-cluster", "c2"], (FlowFilter(destination_cluster_name=["c2"]),)),
    (
        ["--verdict", "DROPPED", "--verdict", "AUDIT"],
        (FlowFilter(verdict=[Verdict.DROPPED, Verdict.AUDIT]),),
    ),
    (
        ["--verdict", "DROPPED", "--pod", "x"],
        (
            FlowFilter(source_pod=["x"], verdict=[Verdict.DROPPED]),
            FlowFilter(destination_pod=["x"], verdict=[Verdict.DROPPED]),
        ),
    ),
    (
        ["--drop-reason-desc", "POLICY_DENY"],
        (FlowFilter(drop_reason_desc=[DropReason.POLICY_DENY]),),
    ),
    (["-t", "trace:to-endpoint"], (FlowFilter(event_type=[EventTypeFilter(4, True, 0)]),)),
    (
        ["--type", "drop", "--type", "l7"],
        (FlowFilter(event_type=[EventTypeFilter(1), EventTypeFilter(129)]),),
    ),
    (["--type", "policy-verdict"], (FlowFilter(event_type=[EventTypeFilter(5)]),)),
    (["--type", "trace:7"], (FlowFilter(event_type=[EventTypeFilter(4, True, 7)]),)),
    (["--type", "42"], (FlowFilter(event_type=[EventTypeFilter(42)]),)),
    (
        ["--type", "agent:policy-updated"],
        (FlowFilter(event_type=[EventTypeFilter(130, True, 5)]),),
    ),
    (
        ["--traffic-direction", "Ingress"],
        (FlowFilter(traffic_direction=[TrafficDirection.INGRESS]),),
    ),
    (["--tcp-flags", "syn,ACK"], (FlowFilter(tcp_flags=[TCPFlags(SYN=True, ACK=True)]),)),
    (["--protocol", "TCP"], (FlowFilter(protocol=["TCP"]),)),
    (["--http-status", "4+"], (FlowFilter(http_status_code=["4+"]),)),
    (["--http-method", "get"], (FlowFilter(http_method=["get"]),)),
    (["--http-path", "/api/.*"], (FlowFilter(http_path=["/api/.*"]),)),
    (["--http-url", "http://x/.*"], (FlowFilter(http_url=["http://x/.*"]),)),
    (["--http-header", "x-user:a:b"], (FlowFilter(http_header=[HTTPHeader("x-user", "a:b")]),)),
    (["--node-name", "cluster-1/*"], (FlowFilter(node_name=["cluster-1/*"]),)),
    (["--node-label", "zone=a"], (FlowFilter(node_labels=["zone=a"]),)),
    (["--uuid", "u-1"], (FlowFilter(uuid=["u-1"]),)),
    (["-4"], (FlowFilter(ip_version=[IPVersion.IPv4]),)),
    (["-6", "--ip-version", "v4"], (FlowFilter(ip_version=[IPVersion.IPv6, IPVersion.IPv4]),)),
    (["--ip-version", "none"], (FlowFilter(ip_version=[IPVersion.IP_NOT_USED]),)),
    (["--snat-ip", "10.0.0.0/8"], (FlowFilter(source_ip_xlated=["10.0.0.0/8"]),)),
    (["--encrypted"], (FlowFilter(encrypted=[True]),)),
    (["--reply"], (FlowFilter(reply=[True]),)),
    (["--not-reply"], (FlowFilter(reply=[False]),)),
    (["--interface", "eth0"], (FlowFilter(interface=[NetworkInterface(name="eth0")]),)),
]


@pytest.mark.parametrize(("args", "expected"), FLAG_CASES, ids=[" ".join(a) for a, _ in FLAG_CASES])
def test_flag_builds_filters_ref_4_5(args, expected):
    assert white(*args) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["-n", "kube-system"],
            (FlowFilter(source_pod=["kube-system/"]), FlowFilter(destination_pod=["kube-system/"])),
        ),
        (["--from-namespace", "a"], (FlowFilter(source_pod=["a/"]),)),
        (
            ["--to-namespace", "foo", "--to-namespace", "bar"],
            (FlowFilter(destination_pod=["foo/", "bar/"]),),
        ),
        (
            ["--from-namespace", "a", "--to-namespace", "b"],
            (FlowFilter(source_pod=["a/"], destination_pod=["b/"]),),
        ),
        (
            ["-n", "shop", "--pod", "web"],
            (FlowFilter(source_pod=["shop/web"]), FlowFilter(destination_pod=["shop/web"])),
        ),
        (
            ["--from-namespace", "a", "--from-service", "svc"],
            (FlowFilter(source_service=["a/svc"]),),
        ),
        (["-A"], (FlowFilter(source_pod=["/"]), FlowFilter(destination_pod=["/"]))),
        (["--to-all-namespaces"], (FlowFilter(destination_pod=["/"]),)),
    ],
    ids=[
        "namespace",
        "from-ns",
        "to-ns-or",
        "from-and-to",
        "ns-and-pod",
        "ns-and-svc",
        "-A",
        "to-all",
    ],
)
def test_namespaces_become_pod_or_service_prefixes_ref_4_5(args, expected):
    assert white(*args) == expected


def test_not_sends_only_the_next_filter_to_the_blacklist_ref_4_5():
    wl, bl = parse_filters(flags("--verdict", "DROPPED", "--not", "--to-label", "app=payment"))
    assert wl == (FlowFilter(verdict=[Verdict.DROPPED]),)
    assert bl == (FlowFilter(destination_label=["app=payment"]),)


def test_repeated_not_flags_build_one_blacklist_filter_ref_4_5():
    """flows.go's example: no PUT or GET to endpoints in namespace foo (fields ANDed)."""
    wl, bl = parse_filters(
        flags(
            "--not",
            "--http-method",
            "put",
            "--not",
            "--http-method",
            "get",
            "--not",
            "--to-namespace",
            "foo",
        )
    )
    assert wl == ()
    assert bl == (FlowFilter(destination_pod=["foo/"], http_method=["put", "get"]),)


def test_white_and_blacklist_track_conflicts_separately():
    wl, bl = parse_filters(flags("--label", "a=b", "--not", "--from-label", "c=d"))
    assert wl and bl


CONFLICTS = [
    (["--label", "a", "--from-label", "b"], "--label and --from-label"),
    (["--from-label", "b", "--label", "a"], "--label and --from-label"),
    (["--label", "a", "--to-label", "b"], "--label and --to-label"),
    (["--ip", "1.1.1.1", "--from-namespace", "x"], "--ip and --from-namespace"),
    (["--pod", "x", "--from-ip", "1.1.1.1"], "--from-ip and --pod"),
    (["--from-pod", "x", "--fqdn", "a.io"], "--fqdn and --from-pod"),
    (["--fqdn", "a.io", "--to-ip", "1.1.1.1"], "--to-ip and --fqdn"),
    (["--namespace", "x", "--to-pod", "y"], "--to-pod and --namespace"),
    (["--namespace", "x", "--from-service", "y"], "--from-service and --namespace"),
    (["-A", "--from-pod", "y"], "--from-pod and --all-namespaces"),
    (["--service", "x", "--to-service", "y"], "--service and --to-service"),
    (["--port", "1", "--to-port", "2"], "--port and --to-port"),
    (["--from-port", "1", "--port", "2"], "--port and --from-port"),
    (["--identity", "1", "--from-identity", "2"], "--identity and --from-identity"),
    (["--workload", "a", "--to-workload", "b"], "--workload and --to-workload"),
    (["--encrypted", "--unencrypted"], "--encrypted and --unencrypted"),
]


@pytest.mark.parametrize(("args", "pair"), CONFLICTS, ids=[" ".join(a) for a, _ in CONFLICTS])
def test_conflicting_flags_are_rejected_ref_4_5(args, pair):
    with pytest.raises(InvalidArgument) as info:
        parse_filters(flags(*args))
    assert info.value.message == f"filters {pair} cannot be combined"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--verdict", "dropped"], "invalid --verdict value: dropped"),
        (["--verdict", "ALLOWED"], "invalid --verdict value: ALLOWED"),
        (
            ["--drop-reason-desc", "policy_denied"],
            "invalid --drop-reason-desc value: policy_denied",
        ),
        (["--drop-reason-desc", ""], "empty --drop-reason-desc value"),
        (["--type", "bogus"], "unable to parse type 'bogus'"),
        (["--type", "trace:nowhere"], "unable to parse event sub-type 'nowhere'"),
        (["--type", "4:to-endpoint"], "unable to parse event sub-type 'to-endpoint'"),
        (["--tcp-flags", "syn,foo"], "unknown tcp flag: FOO"),
        (["--traffic-direction", "Sideways"], "sideways: invalid traffic direction"),
        (["--identity", "nobody"], "invalid security identity, expected one of [host world"),
        (["--http-header", "nocolon"], 'invalid http-header value "nocolon", expected name:value'),
        (
            ["--from-namespace", "a", "--from-pod", "b/x"],
            'namespace conflict: "a" does not contain "b/x"',
        ),
        (
            ["--from-pod", "a/x", "--from-service", "b/y"],
            'namespace of service "b/y" conflict with pod "a"',
        ),
        (["--not", "--not"], "consecutive --not statements"),
        (["--verdict", "DROPPED", "--not"], "trailing --not found in the arguments"),
        (["--cel-expression", "true"], "filter --cel-expression is not supported by cmesh"),
        (["--bogus", "x"], "unknown filter flag --bogus"),
    ],
    ids=[
        "verdict-lower",
        "verdict-unknown",
        "drop-reason-lower",
        "drop-reason-empty",
        "type",
        "subtype",
        "numeric-type-named-subtype",
        "tcp-flag",
        "direction",
        "identity",
        "http-header",
        "ns-vs-pod",
        "svc-vs-pod",
        "double-not",
        "trailing-not",
        "cel",
        "unknown",
    ],
)
def test_bad_flags_are_rejected_with_hubbles_message_ref_4_5(args, message):
    with pytest.raises(InvalidArgument) as info:
        parse_filters(flags(*args))
    assert message in info.value.message
    assert info.value.hint  # and cmesh says what to write instead


def test_lower_case_verdict_hint_names_the_upper_case_one_ref_4_5():
    with pytest.raises(InvalidArgument) as info:
        parse_filters([("--verdict", "dropped")])
    assert "--verdict DROPPED" in info.value.hint


def test_missing_value_is_rejected():
    with pytest.raises(InvalidArgument, match="flag --verdict needs a value"):
        parse_filters([("--verdict", None)])


def test_flags_without_dashes_are_accepted():
    assert parse_filters([("verdict", "DROPPED")]) == parse_filters([("--verdict", "DROPPED")])
