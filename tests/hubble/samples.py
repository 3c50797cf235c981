"""Flows taken from the reference's examples (ref §4.3, §4.4) and hypothesis strategies for flows.

Every sample is built the way the datapath will build it: a base flow plus a ``build`` helper.
"""

from __future__ import annotations

from hypothesis import strategies as st

from cmesh.hubble import (
    DNS,
    HTTP,
    IP,
    SCTP,
    TCP,
    UDP,
    AuthType,
    CiliumEventType,
    DropReason,
    Endpoint,
    Ethernet,
    Flow,
    FlowType,
    HTTPHeader,
    ICMPv4,
    ICMPv6,
    IPVersion,
    L7FlowType,
    Layer7,
    NetworkInterface,
    Policy,
    PolicyMatchType,
    Service,
    TCPFlags,
    TraceObservationPoint,
    TraceReason,
    TrafficDirection,
    Verdict,
    Workload,
    as_drop,
    as_policy_verdict,
    parse_timestamp,
)

SEC = 1_000_000_000

# -- ref §4.3: the JSON example -----------------------------------------------------------------

REF_4_3_TIME = "2026-01-01T10:00:00.123456789Z"

XWING = Endpoint(
    ID=1234,
    identity=65841,
    cluster_name="c1",
    namespace="default",
    labels=(
        "k8s:app=xwing",
        "k8s:io.cilium.k8s.policy.cluster=c1",
        "k8s:io.kubernetes.pod.namespace=default",
    ),
    pod_name="xwing-6d",
    workloads=(Workload("xwing", "Deployment"),),
)
DEATHSTAR = Endpoint(
    ID=3001,
    identity=131073,
    cluster_name="c2",
    namespace="default",
    labels=(
        "k8s:app=deathstar",
        "k8s:io.cilium.k8s.policy.cluster=c2",
        "k8s:io.kubernetes.pod.namespace=default",
    ),
    pod_name="deathstar-1",
)


def ref_4_3_flow() -> Flow:
    """The dropped SYN of ref §4.3, xwing (c1) to deathstar (c2), seen on c2/node-1."""
    base = Flow(
        time=parse_timestamp(REF_4_3_TIME),
        uuid="0d4f4a1c-2f63-4d5b-9d2a-6a9a6c5f1e01",
        node_name="c2/node-1",
        IP=IP("10.1.0.5", "10.2.0.7"),
        l4=TCP(54842, 80, TCPFlags(SYN=True)),
        source=XWING,
        destination=DEATHSTAR,
    )
    return as_drop(base, DropReason.POLICY_DENIED, TrafficDirection.INGRESS)


def ref_4_3_json() -> dict:
    """The reference's JSON line with its elisions filled in from :func:`ref_4_3_flow`."""
    return {
        "flow": {
            "time": REF_4_3_TIME,
            "uuid": "0d4f4a1c-2f63-4d5b-9d2a-6a9a6c5f1e01",
            "verdict": "DROPPED",
            "drop_reason": 133,
            "IP": {"source": "10.1.0.5", "destination": "10.2.0.7", "ipVersion": "IPv4"},
            "l4": {"TCP": {"source_port": 54842, "destination_port": 80, "flags": {"SYN": True}}},
            "source": {
                "ID": 1234,
                "identity": 65841,
                "cluster_name": "c1",
                "namespace": "default",
                "labels": [
                    "k8s:app=xwing",
                    "k8s:io.cilium.k8s.policy.cluster=c1",
                    "k8s:io.kubernetes.pod.namespace=default",
                ],
                "pod_name": "xwing-6d",
                "workloads": [{"name": "xwing", "kind": "Deployment"}],
            },
            "destination": {
                "ID": 3001,
                "identity": 131073,
                "cluster_name": "c2",
                "namespace": "default",
                "labels": [
                    "k8s:app=deathstar",
                    "k8s:io.cilium.k8s.policy.cluster=c2",
                    "k8s:io.kubernetes.pod.namespace=default",
                ],
                "pod_name": "deathstar-1",
            },
            "Type": "L3_L4",
            "node_name": "c2/node-1",
            "event_type": {"type": 1, "sub_type": 133},
            "traffic_direction": "INGRESS",
            "drop_reason_desc": "POLICY_DENIED",
            "Summary": "TCP Flags: SYN",
        },
        "node_name": "c2/node-1",
        "time": REF_4_3_TIME,
    }


# -- ref §4.4: the compact examples (policy-creation.rst, with the direction) -------------------

DEATHSTAR_POD = Endpoint(identity=16530, namespace="default", pod_name="deathstar-6fb5694d48-5hmds")


def tiefighter_allowed() -> Flow:
    """``Feb  7 13:06:45.130: default/tiefighter:59824 (ID:31028) -> ... ALLOWED``."""
    base = Flow(
        time=1_770_469_605 * SEC + 130_000_000,
        node_name="default/k8s1",
        IP=IP("10.0.0.112", "10.0.0.35"),
        l4=TCP(59824, 80, TCPFlags(SYN=True)),
        source=Endpoint(identity=31028, namespace="default", pod_name="tiefighter"),
        destination=DEATHSTAR_POD,
    )
    rule = Policy("rule1", "default", kind="CiliumNetworkPolicy")
    return as_policy_verdict(
        base, Verdict.FORWARDED, PolicyMatchType.L3_L4, TrafficDirection.INGRESS, policies=[rule]
    )


def xwing_denied() -> Flow:
    """``Feb  7 13:43:46.791: default/xwing:54842 (ID:22654) <> ... DENIED``."""
    base = Flow(
        time=1_770_471_826 * SEC + 791_000_000,
        node_name="default/k8s1",
        IP=IP("10.0.0.70", "10.0.0.35"),
        l4=TCP(54842, 80, TCPFlags(SYN=True)),
        source=Endpoint(identity=22654, namespace="default", pod_name="xwing"),
        destination=DEATHSTAR_POD,
    )
    return as_policy_verdict(
        base,
        Verdict.DROPPED,
        PolicyMatchType.NONE,
        TrafficDirection.INGRESS,
        drop_reason=DropReason.POLICY_DENIED,
    )


REF_4_4_ALLOWED = (
    "Feb  7 13:06:45.130: default/tiefighter:59824 (ID:31028) -> "
    "default/deathstar-6fb5694d48-5hmds:80 (ID:16530) policy-verdict:L3-L4 INGRESS ALLOWED "
    "(TCP Flags: SYN)"
)
REF_4_4_DENIED = (
    "Feb  7 13:43:46.791: default/xwing:54842 (ID:22654) <> "
    "default/deathstar-6fb5694d48-5hmds:80 (ID:16530) policy-verdict:none INGRESS DENIED "
    "(TCP Flags: SYN)"
)

# -- hypothesis strategies ------------------------------------------------------------------

_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
_u32 = st.integers(0, 2**32 - 1)
_u16 = st.integers(0, 65535)
_u64 = st.integers(0, 2**63 - 1)


def _tuple(elem: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(elem, max_size=3).map(tuple)


endpoints = st.builds(
    Endpoint,
    ID=_u32,
    identity=_u32,
    cluster_name=_text,
    namespace=_text,
    labels=_tuple(_text),
    pod_name=_text,
    workloads=_tuple(st.builds(Workload, _text, _text)),
)
ips = st.builds(
    IP,
    source=st.sampled_from(["", "10.0.0.1", "f00d::1", "not-an-ip"]),
    destination=st.sampled_from(["", "10.0.0.2", "f00d::2"]),
    ipVersion=st.sampled_from(IPVersion),
    encrypted=st.booleans(),
    source_xlated=st.sampled_from(["", "192.168.0.1"]),
)
l4s = st.one_of(
    st.none(),
    st.builds(TCP, _u16, _u16, st.none() | st.builds(TCPFlags, *[st.booleans()] * 9)),
    st.builds(UDP, _u16, _u16),
    st.builds(SCTP, _u16, _u16),
    st.builds(ICMPv4, st.integers(0, 255), st.integers(0, 255)),
    st.builds(ICMPv6, st.integers(0, 255), st.integers(0, 255)),
)
records = st.one_of(
    st.none(),
    st.builds(HTTP, _u32, _text, _text, _text, _tuple(st.builds(HTTPHeader, _text, _text))),
    st.builds(DNS, _text, _tuple(_text), _u32, _tuple(_text), _text, _u32, _tuple(_text)),
)
policies = _tuple(st.builds(Policy, _text, _text, _tuple(_text), _u64, _text))

flows = st.builds(
    Flow,
    time=st.integers(0, 2**62),
    uuid=_text,
    verdict=st.sampled_from(Verdict),
    drop_reason=_u32,
    auth_type=st.sampled_from(AuthType),
    ethernet=st.none() | st.builds(Ethernet, _text, _text),
    IP=st.none() | ips,
    l4=l4s,
    source=st.none() | endpoints,
    destination=st.none() | endpoints,
    Type=st.sampled_from(FlowType),
    node_name=_text,
    node_labels=_tuple(_text),
    source_names=_tuple(_text),
    destination_names=_tuple(_text),
    l7=st.none() | st.builds(Layer7, st.sampled_from(L7FlowType), _u64, records),
    event_type=st.none() | st.builds(CiliumEventType, st.integers(0, 255), st.integers(0, 255)),
    source_service=st.none() | st.builds(Service, _text, _text),
    destination_service=st.none() | st.builds(Service, _text, _text),
    traffic_direction=st.sampled_from(TrafficDirection),
    policy_match_type=st.integers(0, 6),
    trace_observation_point=st.sampled_from(TraceObservationPoint),
    trace_reason=st.sampled_from(TraceReason),
    drop_reason_desc=st.sampled_from(DropReason),
    is_reply=st.none() | st.booleans(),
    interface=st.none() | st.builds(NetworkInterface, _u32, _text),
    proxy_port=_u16,
    Summary=_text,
    egress_allowed_by=policies,
    ingress_allowed_by=policies,
    egress_denied_by=policies,
    ingress_denied_by=policies,
    policy_log=_tuple(_text),
)
