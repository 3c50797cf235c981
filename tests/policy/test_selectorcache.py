"""The SelectorCache keeps every selection equal to a scan, whatever identities do."""

from __future__ import annotations

import random

from cmesh.labels import EndpointSelector, Label, Labels
from cmesh.policy import CIDRSelector, IdentityInfo, SelectorCache
from cmesh.policy.rule import Selector

KEYS = {"app": ["a", "b", "c"], "tier": ["x", "y"], "team": ["red", "blue"]}


def _labels(rng: random.Random) -> Labels:
    return Labels(
        Label(rng.choice(["k8s", "unspec"]), k, rng.choice(v))
        for k, v in KEYS.items()
        if rng.random() < 0.7
    )


def _selectors() -> list[Selector]:
    out: list[Selector] = [
        EndpointSelector.from_match({"app": "a"}),
        EndpointSelector.from_match({"k8s:app": "b", "tier": "x"}),
        EndpointSelector.from_match(None, [("tier", "In", ["x", "y"])]),
        EndpointSelector.from_match(None, [("team", "Exists", [])]),
        EndpointSelector.from_match(None, [("app", "NotIn", ["a"])]),
        EndpointSelector.from_match(None, [("tier", "DoesNotExist", [])]),
        EndpointSelector.from_match({"reserved:world": ""}),
        CIDRSelector("0.0.0.0/0", ("10.0.0.0/8",)),
        CIDRSelector("10.1.0.0/16"),
        EndpointSelector(),
    ]
    return out


def test_selections_equal_a_fresh_scan_after_random_identity_changes() -> None:
    rng = random.Random(7)
    cache = SelectorCache()
    cache.upsert_identity(IdentityInfo(2, Labels([Label("reserved", "world")])))
    sels = _selectors()
    for i, sel in enumerate(sels):  # half registered before identities, half after
        if i % 2:
            cache.add_selector(sel)
    cidrs = ["10.1.2.0/24", "10.0.0.0/8", "192.0.2.0/24", "10.1.0.0/16"]
    for step in range(400):
        ident = 1000 + rng.randrange(40)
        r = rng.random()
        if r < 0.6:
            cache.upsert_identity(IdentityInfo(ident, _labels(rng)))
        elif r < 0.75:
            cidr = rng.choice(cidrs)
            world = Labels([Label("cidr", cidr), Label("reserved", "world")])
            cache.upsert_identity(IdentityInfo(ident, world, cidr=cidr))
        else:
            cache.remove_identity(ident)
        if step == 200:
            for i, sel in enumerate(sels):
                if not i % 2:
                    cache.add_selector(sel)
        for sel, ids in cache.selections.items():
            assert ids == cache._select(sel), (step, sel)


def test_identity_changes_report_exactly_the_selections_that_changed() -> None:
    cache = SelectorCache()
    a, tier = EndpointSelector.from_match({"app": "a"}), EndpointSelector.from_match({"tier": "x"})
    cache.add_selector(a)
    cache.add_selector(tier)
    k8s = lambda **kv: Labels(Label("k8s", k, v) for k, v in kv.items())  # noqa: E731
    assert cache.upsert_identity(IdentityInfo(7, k8s(app="a"))) == {a: True}
    assert cache.upsert_identity(IdentityInfo(7, k8s(app="a", tier="x"))) == {tier: True}
    assert cache.upsert_identity(IdentityInfo(7, k8s(app="b", tier="x"))) == {a: False}
    assert cache.remove_identity(7) == {tier: False}
    cache.add_selector(tier)  # a second user
    assert cache.remove_selector(a) is True and a not in cache.selections
    assert cache.remove_selector(tier) is False and tier in cache.selections
