"""``--label`` selectors: Cilium source prefixes inside Kubernetes selector syntax (ref §4.5)."""

from __future__ import annotations

import pytest

from cmesh.errors import InvalidArgument
from cmesh.hubble import parse_label_selector
from cmesh.hubble.labelselector import split_hubble_key
from cmesh.labels import Labels

POD = Labels.parse(
    [
        "k8s:app=xwing",
        "k8s:class=fighter",
        "k8s:io.kubernetes.pod.namespace=default",
        "container:tier=front",
    ]
)
WORLD = Labels.parse(["reserved:world"])


@pytest.mark.parametrize(
    ("selector", "labels", "selected"),
    [
        ("app=xwing", POD, True),
        ("k8s:app=xwing", POD, True),
        ("container:app=xwing", POD, False),
        ("any:app=xwing", POD, True),
        ("app==xwing", POD, True),
        ("app!=xwing", POD, False),
        ("app!=tie", POD, True),
        ("app in (tie, xwing)", POD, True),
        ("k8s:app notin (xwing)", POD, False),
        ("app", POD, True),
        ("!app", POD, False),
        ("!k8s:missing", POD, True),
        ("app=xwing,class=fighter", POD, True),
        ("app=xwing,class=bomber", POD, False),
        ("tier=front", POD, True),
        ("k8s:tier=front", POD, False),
        ("reserved:world", WORLD, True),
        ("reserved:world", POD, False),
        ("k8s:io.kubernetes.pod.namespace=default", POD, True),
        ("", POD, True),
    ],
    ids=[
        "bare-key-any-source",
        "k8s-source",
        "other-source",
        "explicit-any",
        "double-equals",
        "not-equals-false",
        "not-equals-true",
        "in-set",
        "notin-set",
        "exists",
        "does-not-exist",
        "missing-does-not-exist",
        "and-both",
        "and-one-fails",
        "container-label-any",
        "container-label-k8s",
        "reserved-world",
        "reserved-world-on-pod",
        "namespace-with-source",
        "empty-selects-all",
    ],
)
def test_selector_matching_ref_4_5(selector, labels, selected):
    assert parse_label_selector(selector).matches(labels) is selected


def test_dotted_key_without_source_reads_io_as_source_ref_4_5():
    """The caveat of ref §4.5: ``io.kubernetes.pod.namespace=x`` selects nothing by default."""
    assert split_hubble_key("io.kubernetes.pod.namespace") == ("io", "kubernetes.pod.namespace")
    assert not parse_label_selector("io.kubernetes.pod.namespace=default").matches(POD)


def test_newer_cilium_prefixes_bare_keys_with_any():
    """labelparser.go's translateSelector: the caveat is gone when ``legacy_keys=False``."""
    sel = parse_label_selector("io.kubernetes.pod.namespace=default", legacy_keys=False)
    assert sel.matches(POD)


def test_empty_value_is_a_valid_requirement():
    assert parse_label_selector("app=").matches(Labels.parse(["k8s:app"]))


@pytest.mark.parametrize(
    "bad",
    ["app=x,", "app in (a", "a b c", "=x"],
    ids=["trailing-comma", "open-set", "spaces", "no-key"],
)
def test_unreadable_selectors_are_rejected(bad):
    with pytest.raises(InvalidArgument, match="invalid label selector"):
        parse_label_selector(bad)
