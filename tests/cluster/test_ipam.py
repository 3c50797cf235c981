"""Address management: node /24s, pod and service addresses, lowest free first."""

from __future__ import annotations

import itertools

import pytest

from cmesh.cluster import ipam
from cmesh.errors import InvalidCluster


def test_free_subnets_are_the_lowest_24s_overlapping_nothing_taken():
    taken = ["10.1.1.0/24", "10.1.0.0/23", "10.1.4.0/22", "", "fd00::/64"]
    assert ipam.free_subnet("10.1.0.0/16", taken) == "10.1.2.0/24"
    got = list(itertools.islice(ipam.free_subnets("10.1.0.0/16", taken), 3))
    assert got == ["10.1.2.0/24", "10.1.3.0/24", "10.1.8.0/24"]


def test_free_addresses_skip_the_first_hosts_and_what_is_taken_meanwhile():
    taken = {"10.1.2.3"}
    free = ipam.free_addresses("10.1.2.0/24", taken)
    assert next(free) == "10.1.2.2"  # .1 is the node's router address
    taken.add("10.1.2.4")
    assert next(free) == "10.1.2.5"
    assert ipam.free_address("10.96.0.0/24", set(), skip_first=0) == "10.96.0.1"


@pytest.mark.parametrize(
    "take",
    [
        lambda: ipam.free_subnet("10.1.0.0/24", ["10.1.0.0/24"]),
        lambda: ipam.free_address("10.1.2.0/30", {"10.1.2.2"}),
        lambda: list(ipam.free_addresses("10.1.2.0/29", set())),
    ],
    ids=["subnet", "address", "walked-past-the-last"],
)
def test_an_exhausted_range_is_a_cluster_error_with_a_hint(take):
    with pytest.raises(InvalidCluster) as err:
        take()
    assert "no free" in err.value.message and "--nodes" in err.value.hint


def test_within_takes_a_network_parsed_once():
    net = ipam.parse_net("10.1.0.0/16")
    assert ipam.within("10.1.255.1", net)
    assert not ipam.within("10.2.0.1", net)
    assert not ipam.within("fd00::1", net)
    assert not ipam.within("not-an-ip", net)
    assert ipam.parse_net("10.1.0.1/16") is None  # host bits set: no network
    assert not ipam.within("10.1.0.1", None)
