"""Flow values normalize on construction and stay immutable (ref §4.1)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmesh.hubble import (
    HTTP,
    IP,
    TCP,
    UDP,
    Endpoint,
    Flow,
    HTTPHeader,
    ICMPv4,
    IPVersion,
    TCPFlags,
)
from cmesh.labels import Labels
from tests.hubble.samples import flows

FIELDS = [f.name for f in dataclasses.fields(Flow)]


def test_endpoint_labels_are_sorted_source_key_value_strings_ref_4_1():
    ep = Endpoint(labels=Labels.parse(["k8s:b=2", "reserved:world", "k8s:a=1"]))
    assert ep.labels == ("k8s:a=1", "k8s:b=2", "reserved:world")
    assert Endpoint(labels=["k8s:z", "k8s:a"]).labels == ("k8s:a", "k8s:z")


@pytest.mark.parametrize(
    ("ip", "version"),
    [
        (IP("10.0.0.1", "10.0.0.2"), IPVersion.IPv4),
        (IP("f00d::1", "f00d::2"), IPVersion.IPv6),
        (IP("", "10.0.0.2"), IPVersion.IPv4),
        (IP("not-an-ip"), IPVersion.IP_NOT_USED),
        (IP("10.0.0.1", ipVersion=IPVersion.IPv6), IPVersion.IPv6),
    ],
    ids=["v4", "v6", "destination-only", "garbage", "explicit-wins"],
)
def test_ip_version_is_derived_from_the_addresses(ip, version):
    assert ip.ipVersion is version


def test_http_headers_may_be_given_as_a_mapping():
    assert HTTP(headers={"b": "2", "a": "1"}).headers == (
        HTTPHeader("a", "1"),
        HTTPHeader("b", "2"),
    )


def test_tcp_flags_by_name():
    assert TCPFlags.of("syn", "ACK") == TCPFlags(SYN=True, ACK=True)
    with pytest.raises(ValueError, match="unknown tcp flag: FOO"):
        TCPFlags.of("foo")


def test_lists_become_tuples_and_flows_are_hashable_and_frozen():
    flow = Flow(source_names=["a", "b"], policy_log=["x"])
    assert flow.source_names == ("a", "b") and hash(flow) == hash(
        Flow(source_names=("a", "b"), policy_log=("x",))
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        flow.uuid = "x"  # type: ignore[misc]


def test_derived_views():
    flow = Flow(time=1_767_261_600_123_456_789, node_name="c1/n1", l4=TCP(1, 2))
    assert flow.timestamp == datetime(2026, 1, 1, 10, 0, 0, 123456, tzinfo=UTC)
    assert flow.cluster_name == "c1" and Flow(node_name="n1").cluster_name == ""
    assert flow.ports == (1, 2) and Flow(l4=UDP(3, 4)).ports == (3, 4)
    assert Flow(l4=ICMPv4(8)).ports is None
    assert flow.with_(uuid="u").uuid == "u" and flow.uuid == ""


def test_with_copies_normalises_repeated_fields_and_rejects_unknown_ones() -> None:
    """``Flow.with_`` behaves as ``dataclasses.replace``: the original is unchanged, repeated
    fields become tuples (ref §4.3: repeated fields), and a misspelt field is an error."""
    base = Flow(time=1, node_name="cluster-1/worker", source_names=("a.example",))
    new = base.with_(time=2, destination_names=["b.example"], policy_log=None)
    assert (base.time, base.destination_names) == (1, ())
    assert new.time == 2 and new.node_name == "cluster-1/worker"
    assert new.destination_names == ("b.example",) and new.policy_log == ()
    assert new.source_names is base.source_names
    assert new == dataclasses.replace(base, time=2, destination_names=("b.example",))
    with pytest.raises(TypeError, match="no field"):
        base.with_(nonsense=1)


@settings(max_examples=150, deadline=None)
@given(flows, flows, st.sets(st.sampled_from(FIELDS)))
def test_with_is_dataclasses_replace(flow: Flow, other: Flow, names: set[str]) -> None:
    """Every field, set or kept, as ``dataclasses.replace`` would; lists given become tuples."""
    changes = {n: getattr(other, n) for n in names}
    changes = {n: list(v) if type(v) is tuple else v for n, v in changes.items()}
    expected = dataclasses.replace(flow, **changes)
    assert flow.with_(**changes) == expected
