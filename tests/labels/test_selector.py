"""Label sources and selector matching (ref §1.12)."""

import pytest

from cmesh.labels import EndpointSelector, Labels, parse_selector, split_key

POD = Labels.parse(
    ["k8s:app=web", "k8s:io.kubernetes.pod.namespace=default", "container:tier=front"]
)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("k8s:app", ("k8s", "app")),
        ("app", ("any", "app")),
        ("any:app", ("any", "app")),
        ("io.kubernetes.pod.namespace", ("any", "io.kubernetes.pod.namespace")),
        ("reserved:host", ("reserved", "host")),
        ("k8s:io.cilium.k8s.policy.cluster", ("k8s", "io.cilium.k8s.policy.cluster")),
    ],
)
def test_selector_key_conversion_ref_1_12(written, expected):
    assert split_key(written) == expected


@pytest.mark.parametrize(
    ("match", "expected"),
    [
        ({"app": "web"}, True),  # any source
        ({"k8s:app": "web"}, True),
        ({"container:app": "web"}, False),  # concrete source must agree
        ({"tier": "front"}, True),
        ({"k8s:tier": "front"}, False),
        ({"app": "db"}, False),
        ({"io.kubernetes.pod.namespace": "default"}, True),
    ],
)
def test_sources_ref_1_12(match, expected):
    assert EndpointSelector.from_match(match).matches(POD) is expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (("app", "In", ["web", "db"]), True),
        (("app", "NotIn", ["web"]), False),
        (("missing", "NotIn", ["x"]), True),  # NotIn matches when the key is absent
        (("app", "Exists", []), True),
        (("missing", "Exists", []), False),
        (("missing", "DoesNotExist", []), True),
        (("app", "DoesNotExist", []), False),
    ],
)
def test_match_expressions_have_k8s_semantics_ref_1_12(expr, expected):
    assert EndpointSelector.from_match(None, [expr]).matches(POD) is expected


def test_empty_selector_is_the_wildcard_ref_1_12():
    assert EndpointSelector().matches(Labels()) and EndpointSelector().is_wildcard


def test_selectors_are_values():
    a = EndpointSelector.from_match({"a": "1", "b": "2"})
    b = EndpointSelector.from_match({"b": "2", "a": "1"})
    assert a == b and hash(a) == hash(b)
    assert a != EndpointSelector.from_match({"a": "1", "b": "3"})


def test_parse_selector_strings():
    sel = parse_selector(
        "app=web,tier notin (back),!canary,k8s:io.kubernetes.pod.namespace=default"
    )
    assert sel.matches(POD)
    assert not parse_selector("app!=web").matches(POD)
    assert parse_selector("app in (web, db)").matches(POD)
    assert parse_selector("app").matches(POD) and not parse_selector("!app").matches(POD)
