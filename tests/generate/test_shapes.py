"""How observations are written into policies: selectors, ports, HTTP paths (ref §1.8, §2.7, §2.10)."""

from __future__ import annotations

import pytest

from cmesh.generate.shapes import (
    chunks,
    generalize_path,
    http_rules,
    peer_labels,
    port_entries,
    port_ranges,
    workload_labels,
)
from cmesh.l7 import full_match
from cmesh.labels import Labels

FRONTEND = Labels.parse(
    [
        "k8s:app=frontend",
        "k8s:pod-template-hash=6d9f7c",
        "k8s:controller-revision-hash=abc",
        "k8s:statefulset.kubernetes.io/pod-name=db-0",
        "k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=shop",
        "k8s:io.cilium.k8s.policy.cluster=cluster-2",
        "k8s:io.cilium.k8s.policy.serviceaccount=default",
        "k8s:io.kubernetes.pod.namespace=shop",
        "k8s:app.kubernetes.io/version=1.2",
    ]
)


def test_selectors_use_identity_relevant_labels_only_ref_2_10():
    assert workload_labels(FRONTEND) == {"app": "frontend", "app.kubernetes.io/version": "1.2"}


@pytest.mark.parametrize(
    ("policy_ns", "cluster", "extra"),
    [
        ("shop", "cluster-2", {}),
        ("default", "cluster-2", {"k8s:io.kubernetes.pod.namespace": "shop"}),
        (
            "shop",
            "cluster-1",
            {
                "k8s:io.kubernetes.pod.namespace": "shop",
                "io.cilium.k8s.policy.cluster": "cluster-2",
            },
        ),
    ],
    ids=["same-ns-same-cluster", "other-ns", "other-cluster"],
)
def test_peer_selectors_name_namespace_and_cluster_when_they_differ_ref_1_14(
    policy_ns, cluster, extra
):
    base = {"app": "frontend", "app.kubernetes.io/version": "1.2"}
    assert peer_labels(FRONTEND, policy_ns, cluster) == dict(sorted({**base, **extra}.items()))


def test_a_pod_without_labels_of_its_own_is_selected_by_service_account():
    bare = Labels.parse(
        ["k8s:io.kubernetes.pod.namespace=x", "k8s:io.cilium.k8s.policy.serviceaccount=robot"]
    )
    assert workload_labels(bare) == {"k8s:io.cilium.k8s.policy.serviceaccount": "robot"}


def test_ports_become_ranges_only_where_contiguous_ref_1_8():
    assert port_ranges([443, 80, 8080, 8081, 8082, 8084]) == [
        (80, 80),
        (443, 443),
        (8080, 8082),
        (8084, 8084),
    ]
    assert port_entries([53, 54], "UDP") == [{"port": "53", "protocol": "UDP", "endPort": 54}]


def test_port_lists_are_split_at_forty_entries_ref_1_8():
    entries = port_entries(range(1000, 1200, 2), "TCP")
    assert len(entries) == 100
    assert [len(c) for c in chunks(entries)] == [40, 40, 20]


@pytest.mark.parametrize(
    ("path", "pattern", "also", "never"),
    [
        ("/api/v1/orders/123", "/api/v1/orders/[0-9]+", "/api/v1/orders/9", "/api/v1/orders/x"),
        ("/health", "/health", "/health", "/health/x"),
        (
            "/u/3f2a9c1e-77aa-4b1c-9d2e-0123456789ab/x",
            None,
            "/u/00000000-0000-0000-0000-000000000000/x",
            "/u/me/x",
        ),
        ("/blob/0123456789abcdef0123", "/blob/[0-9a-fA-F]+", "/blob/ffff", "/blob/zz"),
        ("/search?q=1", "/search(\\?.*)?", "/search?q=2", "/searchx"),
        ("/a.b", "/a\\.b", "/a.b", "/aXb"),
    ],
    ids=["number", "literal", "uuid", "hex", "query", "dot"],
)
def test_http_paths_generalise_variable_segments_into_re2_ref_2_7(path, pattern, also, never):
    got = generalize_path(path)
    if pattern is not None:
        assert got == pattern
    assert full_match(got, path) and full_match(got, also) and not full_match(got, never)


def test_http_rules_merge_requests_per_method_and_pattern():
    rules = http_rules([("GET", "/o/1"), ("GET", "/o/2"), ("post", "/o/3"), ("GET", "/o/4?x=1")])
    assert rules == [
        {"method": "GET", "path": "/o/[0-9]+(\\?.*)?"},
        {"method": "POST", "path": "/o/[0-9]+"},
    ]
