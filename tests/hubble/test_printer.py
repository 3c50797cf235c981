"""``hubble observe`` output formats (ref §4.3, §4.4)."""

from __future__ import annotations

import json

import pytest

from cmesh.hubble import (
    DNS,
    HTTP,
    IP,
    TCP,
    UDP,
    AuthType,
    DropReason,
    Endpoint,
    Ethernet,
    Flow,
    ICMPv4,
    L7FlowType,
    Output,
    Policy,
    PolicyMatchType,
    Printer,
    PrinterOptions,
    Service,
    TracePoint,
    TraceReason,
    TrafficDirection,
    Verdict,
    as_drop,
    as_l7,
    as_policy_verdict,
    as_trace,
    render,
)
from tests.hubble.samples import (
    REF_4_4_ALLOWED,
    REF_4_4_DENIED,
    SEC,
    ref_4_3_flow,
    ref_4_3_json,
    tiefighter_allowed,
    xwing_denied,
)

T = 1_770_469_605 * SEC + 130_000_000  # Feb  7 13:06:45.130 (2026)
CLIENT = Endpoint(identity=65537, namespace="default", pod_name="client")
SERVER = Endpoint(identity=65538, namespace="default", pod_name="server")
BASE = Flow(
    time=T,
    node_name="cluster-1/node-1",
    IP=IP("10.1.0.10", "10.1.0.20"),
    l4=TCP(40000, 8080),
    source=CLIENT,
    destination=SERVER,
)


def compact(flow: Flow, **options) -> str:
    return render([flow], PrinterOptions(**options)).rstrip("\n")


def test_compact_policy_verdict_allowed_line_ref_4_4():
    assert compact(tiefighter_allowed()) == REF_4_4_ALLOWED


def test_compact_policy_verdict_denied_line_ref_4_4():
    assert compact(xwing_denied()) == REF_4_4_DENIED


def test_compact_drop_line_ref_4_4():
    """A drop's TYPE is the drop reason text and its direction is unknown (``<>``)."""
    assert compact(ref_4_3_flow()) == (
        "Jan  1 10:00:00.123: default/xwing-6d:54842 (ID:65841) <> "
        "default/deathstar-1:80 (ID:131073) Policy denied DROPPED (TCP Flags: SYN)"
    )


@pytest.mark.parametrize(
    ("flow", "line"),
    [
        (
            as_trace(BASE, TracePoint.TO_LXC, TrafficDirection.INGRESS),
            "default/client:40000 (ID:65537) -> default/server:8080 (ID:65538) "
            "to-endpoint FORWARDED (TCP Flags: )",
        ),
        (
            as_trace(
                BASE.with_(
                    IP=IP("10.1.0.20", "10.1.0.10"),
                    l4=TCP(8080, 40000),
                    source=SERVER,
                    destination=CLIENT,
                ),
                TracePoint.TO_LXC,
                TrafficDirection.INGRESS,
                reason=TraceReason.REPLY,
            ),
            "default/client:40000 (ID:65537) <- default/server:8080 (ID:65538) "
            "to-endpoint FORWARDED (TCP Flags: )",
        ),
        (
            as_drop(BASE, DropReason.POLICY_DENY, TrafficDirection.EGRESS),
            "default/client:40000 (ID:65537) <> default/server:8080 (ID:65538) "
            "Policy denied by denylist DROPPED (TCP Flags: )",
        ),
        (
            as_policy_verdict(BASE, Verdict.AUDIT, PolicyMatchType.NONE, TrafficDirection.EGRESS),
            "default/client:40000 (ID:65537) -> default/server:8080 (ID:65538) "
            "policy-verdict:none EGRESS AUDITED (TCP Flags: )",
        ),
        (
            as_policy_verdict(
                BASE, Verdict.REDIRECTED, PolicyMatchType.L3_L4, TrafficDirection.INGRESS
            ),
            "default/client:40000 (ID:65537) -> default/server:8080 (ID:65538) "
            "policy-verdict:L3-L4 INGRESS ALLOWED (TCP Flags: )",
        ),
        (
            as_l7(
                BASE,
                HTTP(0, "GET", "http://server/", "HTTP/1.1"),
                L7FlowType.REQUEST,
                TrafficDirection.EGRESS,
            ),
            "default/client:40000 (ID:65537) -> default/server:8080 (ID:65538) "
            "http-request FORWARDED (HTTP/1.1 GET http://server/)",
        ),
        (
            as_l7(
                BASE.with_(l4=UDP(40000, 53)),
                DNS("cilium.io.", qtypes=("A",), observation_source="proxy"),
                L7FlowType.REQUEST,
                TrafficDirection.EGRESS,
            ),
            "default/client:40000 (ID:65537) -> default/server:53 (ID:65538) "
            "dns-request proxy FORWARDED (DNS Query cilium.io. A)",
        ),
    ],
    ids=["trace", "reply-swapped", "deny-drop", "audit", "redirected", "http", "dns"],
)
def test_compact_types_arrows_and_verdicts_ref_4_4(flow, line):
    assert compact(flow) == f"Feb  7 13:06:45.130: {line}"


@pytest.mark.parametrize(
    ("changes", "src", "dst"),
    [
        ({"source": None, "destination": None}, "10.1.0.10:40000", "10.1.0.20:8080"),
        (
            {"destination": None, "destination_service": Service("api", "prod")},
            "default/client:40000",
            "prod/api:8080",
        ),
        (
            {"destination": None, "destination_names": ("api.github.com", "github.com")},
            "default/client:40000",
            "api.github.com,github.com:8080",
        ),
        ({"l4": ICMPv4(8, 0)}, "default/client", "default/server"),
        ({"l4": TCP(0, 0)}, "default/client", "default/server"),
        (
            {"IP": IP("f00d::1", "f00d::2"), "source": None, "destination": None},
            "[f00d::1]:40000",
            "[f00d::2]:8080",
        ),
        ({"IP": None, "ethernet": Ethernet("aa:bb", "cc:dd")}, "aa:bb", "cc:dd"),
    ],
    ids=["bare-ips", "service", "dns-names", "icmp-no-port", "port-zero", "ipv6", "ethernet"],
)
def test_compact_host_names_ref_4_4(changes, src, dst):
    flow = as_trace(BASE.with_(**changes), TracePoint.TO_LXC, TrafficDirection.INGRESS)
    line = compact(flow)
    assert f": {src} (" in line and f"-> {dst} (" in line


def test_numeric_prints_ips_but_keeps_reserved_identity_names_ref_4_5():
    world = Endpoint(identity=2, labels=("reserved:world",))
    flow = as_trace(
        BASE.with_(destination=world, destination_names=("cilium.io",)),
        TracePoint.TO_STACK,
        TrafficDirection.EGRESS,
    )
    assert "-> cilium.io:8080 (world) to-stack" in compact(flow)
    assert compact(flow, ip_translation=False) == (
        "Feb  7 13:06:45.130: 10.1.0.10:40000 (ID:65537) -> 10.1.0.20:8080 (world) "
        "to-stack FORWARDED (TCP Flags: )"
    )


def test_print_node_name_ref_4_4():
    flow = as_trace(BASE, TracePoint.TO_LXC, TrafficDirection.INGRESS)
    assert compact(flow, node_name=True).startswith("Feb  7 13:06:45.130 [cluster-1/node-1]: ")


def test_print_policy_names_ref_4_4():
    allow = Policy("allow-web", "default", kind="CiliumNetworkPolicy")
    ccnp = Policy("baseline", kind="CiliumClusterwideNetworkPolicy")
    unnamed = Policy(kind="NetworkPolicy")
    flow = as_policy_verdict(
        BASE,
        Verdict.FORWARDED,
        PolicyMatchType.L3_L4,
        TrafficDirection.INGRESS,
        policies=[allow, unnamed, ccnp],
    )
    assert (
        "INGRESS ALLOWED BY allow-web (CiliumNetworkPolicy), baseline "
        "(CiliumClusterwideNetworkPolicy) (TCP Flags: )"
    ) in compact(flow, policy_names=True)
    assert "ALLOWED (TCP" in compact(flow)
    deny = as_policy_verdict(
        BASE,
        Verdict.DROPPED,
        PolicyMatchType.L3_L4,
        TrafficDirection.EGRESS,
        drop_reason=DropReason.POLICY_DENY,
        policies=[Policy("no-db", "default", kind="CiliumNetworkPolicy")],
    )
    assert "EGRESS DENIED BY no-db (CiliumNetworkPolicy) (" in compact(deny, policy_names=True)
    # an audited verdict names the policy that would have denied it (the datapath's *_denied_by)
    audit = as_policy_verdict(
        BASE, Verdict.AUDIT, PolicyMatchType.NONE, TrafficDirection.INGRESS, policies=[allow]
    ).with_(ingress_denied_by=(Policy("no-web", "default", kind="CiliumNetworkPolicy"),))
    assert "INGRESS AUDITED BY no-web (CiliumNetworkPolicy) (" in compact(audit, policy_names=True)


def test_summary_shows_the_auth_type():
    flow = as_policy_verdict(
        BASE, Verdict.FORWARDED, 2, TrafficDirection.INGRESS, auth_type=AuthType.SPIRE
    )
    assert compact(flow).endswith("(TCP Flags: ; SPIRE)")


@pytest.mark.parametrize(
    ("time_format", "text"),
    [
        ("StampMilli", "Feb  7 13:06:45.130"),
        ("RFC3339", "2026-02-07T13:06:45Z"),
        ("RFC3339Milli", "2026-02-07T13:06:45.13Z"),
        ("RFC3339Nano", "2026-02-07T13:06:45.13Z"),
        ("YearMonthDay", "2026-02-07"),
        ("rfc1123z", "Sat, 07 Feb 2026 13:06:45 +0000"),
    ],
    ids=["stamp-milli", "rfc3339", "rfc3339-milli", "rfc3339-nano", "ymd", "rfc1123z"],
)
def test_time_format_ref_4_5(time_format, text):
    flow = as_trace(BASE, TracePoint.TO_LXC, TrafficDirection.INGRESS)
    assert compact(flow, time_format=time_format).startswith(f"{text}: ")


def test_dict_output_ref_4_4():
    flows = [tiefighter_allowed(), xwing_denied()]
    assert render(flows, PrinterOptions(Output.DICT, node_name=True)) == (
        "  TIMESTAMP: Feb  7 13:06:45.130\n"
        "       NODE: default/k8s1\n"
        "     SOURCE: default/tiefighter:59824\n"
        "DESTINATION: default/deathstar-6fb5694d48-5hmds:80\n"
        "       TYPE: policy-verdict:L3-L4 INGRESS\n"
        "    VERDICT: ALLOWED\n"
        "    SUMMARY: TCP Flags: SYN\n"
        "------------\n"
        "  TIMESTAMP: Feb  7 13:43:46.791\n"
        "       NODE: default/k8s1\n"
        "     SOURCE: default/xwing:54842\n"
        "DESTINATION: default/deathstar-6fb5694d48-5hmds:80\n"
        "       TYPE: policy-verdict:none INGRESS\n"
        "    VERDICT: DENIED\n"
        "    SUMMARY: TCP Flags: SYN\n"
    )


def test_table_output_is_tabwriter_aligned_ref_4_4():
    """Hubble's table is ``tabwriter`` output: columns padded to the widest cell plus 3."""
    text = render([tiefighter_allowed(), xwing_denied()], PrinterOptions(Output.TABLE))
    assert text == (
        "TIMESTAMP             SOURCE                     DESTINATION                             "
        "TYPE                           VERDICT   SUMMARY\n"
        "Feb  7 13:06:45.130   default/tiefighter:59824   default/deathstar-6fb5694d48-5hmds:80   "
        "policy-verdict:L3-L4 INGRESS   ALLOWED   TCP Flags: SYN\n"
        "Feb  7 13:43:46.791   default/xwing:54842        default/deathstar-6fb5694d48-5hmds:80   "
        "policy-verdict:none INGRESS    DENIED    TCP Flags: SYN\n"
    )


def test_table_is_only_written_at_flush():
    printer = Printer(PrinterOptions(Output.TABLE, node_name=True))
    assert printer.write(xwing_denied()) == ""
    assert printer.flush().splitlines()[0].split() == [
        "TIMESTAMP",
        "NODE",
        "SOURCE",
        "DESTINATION",
        "TYPE",
        "VERDICT",
        "SUMMARY",
    ]
    assert printer.flush() == ""


@pytest.mark.parametrize("output", [Output.JSON, Output.JSONPB], ids=["json", "jsonpb"])
def test_json_output_is_one_get_flows_response_per_line_ref_4_3(output):
    text = render([ref_4_3_flow(), ref_4_3_flow()], PrinterOptions(output))
    lines = text.splitlines()
    assert len(lines) == 2 and text.endswith("\n")
    assert [json.loads(line) for line in lines] == [ref_4_3_json()] * 2


def test_unknown_time_prints_na():
    assert compact(Flow()).startswith("N/A: ")
