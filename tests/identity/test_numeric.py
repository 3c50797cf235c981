"""Numeric identity layout (ref §2.9, §3.1)."""

import pytest

from cmesh.identity import (
    ReservedIdentity,
    allocate,
    allocation_range,
    cluster_of,
    describe,
    reserved_identities,
)
from cmesh.labels import Labels


def test_reserved_numbers_ref_2_9():
    assert {r.label_name: int(r) for r in ReservedIdentity if r} == {
        "host": 1,
        "world": 2,
        "unmanaged": 3,
        "health": 4,
        "init": 5,
        "remote-node": 6,
        "kube-apiserver": 7,
        "ingress": 8,
        "world-ipv4": 9,
        "world-ipv6": 10,
        "overlay-to-encrypt": 11,
    }


@pytest.mark.parametrize(
    ("cluster", "mcc", "rng"),
    [
        (0, 255, (256, 65535)),
        (1, 255, (65536, 131071)),
        (2, 255, (131072, 196607)),
        (255, 255, (255 << 16, (256 << 16) - 1)),
        (1, 511, (32768, 65535)),
        (511, 511, (511 << 15, (512 << 15) - 1)),
    ],
)
def test_cluster_ranges_ref_3_1(cluster, mcc, rng):
    assert allocation_range(cluster, mcc) == rng
    assert cluster_of(rng[0], mcc) == cluster and cluster_of(rng[1], mcc) == cluster


def test_allocation_is_deterministic_lowest_free_and_keeps_existing():
    a, b, c = (Labels.parse([f"k8s:app={x}"]) for x in "abc")
    first = allocate([b, a], {}, cluster_id=1)
    assert first == {a: 65536, b: 65537}
    more = allocate([a, b, c], first, cluster_id=1)
    assert more == {c: 65538}
    # a freed number is reused
    assert allocate([c], {b: 65537}, cluster_id=1) == {c: 65536}


def test_describe_like_hubble():
    assert describe(2) == "world" and describe(65536) == "ID:65536"


def test_kube_apiserver_identity_also_carries_remote_node_ref_2_9():
    """The apiserver runs on a control-plane node: identity 7 is selected by the
    ``kube-apiserver`` and the ``remote-node`` entities alike; identity 6 only by the latter."""
    ids = reserved_identities()
    assert {(lb.source, lb.key) for lb in ids[7].labels.labels()} == {
        ("reserved", "kube-apiserver"),
        ("reserved", "remote-node"),
    }
    assert {(lb.source, lb.key) for lb in ids[6].labels.labels()} == {("reserved", "remote-node")}
