"""DNS names and patterns (ref §1.7, §2.8)."""

import pytest

from cmesh.l7 import matches_name, matches_pattern


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("*.cilium.io", "www.cilium.io", True),
        ("*.cilium.io", "cilium.io", False),
        ("*.cilium.io", "a.b.cilium.io", False),
        ("*cilium.io", "cilium.io", True),
        ("*cilium.io", "subcilium.io", True),
        ("*cilium.io", "www.cilium.io", False),
        ("sub*.cilium.io", "sub.cilium.io", True),
        ("sub*.cilium.io", "subdomain.cilium.io", True),
        ("**.cilium.io", "app.cilium.io", True),
        ("**.cilium.io", "a.b.cilium.io", True),
        ("**.cilium.io", "cilium.io", False),
        ("part*ial.com", "partial.com", True),
        ("part*ial.com", "part-extra-ial.com", True),
        ("*", "anything.example.com", True),
        ("*", "x", True),
        ("*.*.svc.cluster.local", "payment-service.default.svc.cluster.local", True),
        ("*.CILIUM.io", "WWW.cilium.IO.", True),
    ],
)
def test_match_pattern_ref_1_7(pattern, name, expected):
    assert matches_pattern(pattern, name) is expected


def test_match_name_exact_case_insensitive_trailing_dot_ref_1_7():
    assert matches_name("api.example.com", "API.example.com.")
    assert not matches_name("api.example.com", "www.api.example.com")
