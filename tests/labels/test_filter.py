"""Identity-relevant labels and the labels Cilium adds to pods (ref §1.13, §2.10)."""

import pytest

from cmesh.labels import Label, LabelFilter, Labels, pod_labels

F = LabelFilter.default()


@pytest.mark.parametrize(
    ("key", "kept"),
    [
        ("app", True),
        ("app.kubernetes.io/name", True),
        ("io.kubernetes.pod.namespace", True),
        ("io.cilium.k8s.namespace.labels.team", True),
        ("io.cilium.k8s.policy.cluster", True),
        ("io.cilium.k8s.policy.serviceaccount", True),
        ("io.kubernetes.pod.name", False),
        ("kubernetes.io/hostname", False),
        ("statefulset.kubernetes.io/pod-name", False),
        ("apps.kubernetes.io/pod-index", False),
        ("batch.kubernetes.io/job-completion-index", False),
        ("batch.kubernetes.io/controller-uid", False),
        ("failure-domain.beta.kubernetes.io/zone", False),
        ("k8s.io/foo", False),
        ("pod-template-hash", False),
        ("pod-template-generation", False),
        ("controller-revision-hash", False),
        ("controller-uid", False),
        ("annotation.foo", False),
        ("etcd_node", False),
        ("topology.kubernetes.io/zone", False),
        ("job-name", True),
        ("batch.kubernetes.io/job-name", True),
    ],
)
def test_default_filter_ref_2_10(key, kept):
    assert F.relevant(Label("k8s", key, "x")) is kept


def test_reserved_labels_always_kept_ref_2_10():
    assert F.relevant(Label("reserved", "host"))


def test_pod_labels_add_namespace_sa_cluster_and_namespace_labels_ref_1_13():
    ls = pod_labels(
        {"app": "web", "pod-template-hash": "abc"},
        namespace="shop",
        namespace_labels={"kubernetes.io/metadata.name": "shop", "team": "a"},
        service_account="web-sa",
        cluster="cluster-1",
    )
    assert ls.sorted_strings() == [
        "k8s:app=web",
        "k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=shop",
        "k8s:io.cilium.k8s.namespace.labels.team=a",
        "k8s:io.cilium.k8s.policy.cluster=cluster-1",
        "k8s:io.cilium.k8s.policy.serviceaccount=web-sa",
        "k8s:io.kubernetes.pod.namespace=shop",
    ]


def test_identity_key_is_sorted_kvstore_form_ref_2_10():
    ls = Labels.parse(["k8s:b=2", "k8s:a=1"])
    assert str(ls) == "k8s:a=1;k8s:b=2;"


def test_user_prefix_makes_a_whitelist():
    f = LabelFilter.with_extra(["k8s:app"])
    assert f.relevant(Label("k8s", "app", "x"))
    assert not f.relevant(Label("k8s", "tier", "x"))


def test_relevance_is_decided_per_source_and_key_and_per_filter_ref_2_10():
    """A prefix may name a source (``k8s:app``): the same key from another source is judged on
    its own, whichever is asked first; and one filter's answers are not another's."""
    f = LabelFilter.with_extra(["k8s:app"])
    assert not f.relevant(Label("container", "app", "x"))
    assert f.relevant(Label("k8s", "app", "y"))
    assert not f.relevant(Label("container", "app", "y"))
    assert not f.relevant(Label("k8s", "tier", "x"))
    assert F.relevant(Label("k8s", "tier", "x"))  # the default filter is no whitelist
    assert f == LabelFilter.with_extra(["k8s:app"])  # what it has decided is not its identity
