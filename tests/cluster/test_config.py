"""Cluster name, id and CIDR rules (ref §3.2)."""

import pytest

from cmesh.cluster import ClusterConfig, default_pod_cidr, validate
from cmesh.errors import InvalidCluster


def cfg(**kw):
    base = {"context": "c", "name": "cluster-1", "id": 1, "pod_cidr": "10.1.0.0/16"}
    return ClusterConfig(**{**base, **kw})


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"id": 256}, "out of range 0-255"),
        ({"id": 400, "max_connected_clusters": 511}, None),
        ({"id": 512, "max_connected_clusters": 511}, "out of range 0-511"),
        ({"max_connected_clusters": 300}, "255 or 511"),
        ({"name": "Cluster_1"}, "invalid cluster name"),
        ({"name": "a" * 33}, "invalid cluster name"),
        ({"name": "-a"}, "invalid cluster name"),
        ({"name": "default", "id": 1}, "cannot keep the name 'default'"),
        ({"name": "default", "id": 0}, None),
        ({"pod_cidr": "10.1.0.0/33"}, "invalid pod CIDR"),
        ({"pod_cidr": "10.1.0.1/16"}, "invalid pod CIDR"),
        ({"pod_cidr": "10.1.0.0/25"}, "smaller than one node"),
        ({"pod_cidr": "10.96.0.0/12"}, "overlaps the service CIDR"),
    ],
    ids=[
        "id-256",
        "id-400-extended",
        "id-512",
        "bad-max",
        "bad-chars",
        "too-long",
        "leading-dash",
        "default-nonzero",
        "default-zero",
        "bad-cidr",
        "host-bits",
        "too-small",
        "overlaps-services",
    ],
)
def test_single_cluster_rules_ref_3_2(kw, message):
    if message is None:
        validate(cfg(**kw), [])
    else:
        with pytest.raises(InvalidCluster, match=message):
            validate(cfg(**kw), [])


def test_uniqueness_across_the_home_ref_3_2():
    other = cfg(context="o", name="cluster-2", id=2, pod_cidr="10.2.0.0/16")
    with pytest.raises(InvalidCluster, match="name 'cluster-2' is already used"):
        validate(cfg(name="cluster-2", id=3, pod_cidr="10.3.0.0/16"), [other])
    with pytest.raises(InvalidCluster, match="id 2 is already used"):
        validate(cfg(id=2), [other])
    with pytest.raises(InvalidCluster, match=r"overlaps pod CIDR 10\.2\.0\.0/16"):
        validate(cfg(pod_cidr="10.2.128.0/17"), [other])
    validate(cfg(), [other])


def test_standalone_clusters_may_share_id_zero():
    validate(cfg(id=0, name="a"), [cfg(context="o", id=0, name="b", pod_cidr="10.2.0.0/16")])


def test_default_pod_cidr_prefers_id_and_skips_taken():
    assert default_pod_cidr(1, []) == "10.1.0.0/16"
    assert default_pod_cidr(1, ["10.1.0.0/16"]) == "10.2.0.0/16"
    assert default_pod_cidr(96, []) == "10.97.0.0/16"  # 10.96/16 is the service CIDR
