"""The engine's incremental maps (Cilium's MapChanges) against maps built from scratch.

``test_differential.py`` checks verdicts; these check the maps themselves: after any sequence
of policy and identity changes, every materialised map holds what a fresh materialisation of
its SelectorPolicy would (as a multiset of entries per key), and its entry count is right.
"""

from __future__ import annotations

import pickle
import random
from collections import Counter
from typing import Any

import pytest
from bench.synth import TIERS, SynthParams, extra_policies, generate, sample_flows

from cmesh.labels import Label
from cmesh.model import from_stored
from cmesh.policy import Direction, IdentityInfo, PolicyEngine, Protocol, import_resource
from cmesh.policy.mapstate import MapState, materialize
from cmesh.policy.view import import_context


def _canon(eng: PolicyEngine, ms: MapState) -> dict[tuple[Any, ...], Counter[tuple[Any, ...]]]:
    """A map's keys and entries, with CIDR identities named by prefix (numbers depend on the
    order prefixes arrived in)."""

    def peer(ident: int) -> Any:
        info = eng.identity(ident)
        return info.cidr if info is not None and info.cidr else ident

    return {
        (d, peer(i)): Counter((me.protocol, me.lo, me.hi, me.entry) for me in mes)
        for (d, i), mes in ms.keys.items()
    }


def _check_maps(eng: PolicyEngine) -> None:
    for ident in sorted(eng.local):
        selecting = {
            r
            for r in eng.repo.rules()
            if r.subject.is_wildcard or ident in eng.cache.get(r.subject)
        }
        assert eng.selected_rules(ident) == selecting, ident
        for variant in eng.endpoint_variants(ident):
            ms = eng.map_state(ident, variant)
            assert ms.count == len(ms), ident
            assert all(ms.keys.values()), "no empty keys"
            fresh = materialize(
                eng.selector_policy(ident),
                eng.cache.get,
                lambda e, v=variant: eng._maps.entries_of(e, v),
                variant,
            )
            assert _canon(eng, ms) == _canon(eng, fresh), ident


@pytest.fixture(scope="module")
def synth() -> Any:
    return generate(SynthParams(pods=300, identities=60, policies=80, clusters=2, seed=4))


def test_maps_changed_in_place_equal_fresh_ones_after_policy_changes(synth: Any) -> None:
    mesh = synth.mesh()
    c = synth.clusters[0]
    view = mesh.views[c.config.name]
    eng = view.engine
    eng.resolve_all()
    ctx = import_context(c.config, view.inventory)
    added = []
    for raw in extra_policies(c, synth.params, 25, seed=3):
        res = from_stored(raw)
        eng.set_policy(res.key, import_resource(res, ctx))
        added.append(res.key)
    _check_maps(eng)
    for key in added[::2]:
        eng.remove_policy(key)
    for key in sorted(k for k in eng.repo.policies if k[0] == "CiliumNetworkPolicy")[:10]:
        eng.remove_policy(key)
    _check_maps(eng)


def test_maps_changed_in_place_equal_fresh_ones_after_identity_changes(synth: Any) -> None:
    mesh = synth.mesh()
    eng = mesh.views[synth.clusters[0].config.name].engine
    eng.resolve_all()
    rng = random.Random(1)
    remote = [i for i in eng.cache.identities if i >= 256 and i not in eng.local]
    local = sorted(eng.local)
    for ident in rng.sample(remote, 10):
        eng.remove_identity(ident)
    for ident in rng.sample(local, 8):  # labels change: selections (and subjects) change
        info = eng.identity(ident)
        assert info is not None
        extra = [Label("k8s", "version", "canary"), Label("k8s", "tier", rng.choice(TIERS))]
        new = IdentityInfo(ident, info.labels.merged(extra), info.cluster)
        eng.upsert_identity(new, local=True, named_ports=eng.named_ports(ident))
    gone = rng.sample(local, 5)
    for ident in gone:
        eng.remove_identity(ident)
    eng.learn_fqdn("api.example.com", ["203.0.113.9", "2001:db8::9"])
    _check_maps(eng)
    eng.forget_fqdn("203.0.113.9")
    _check_maps(eng)


def test_a_pickled_engine_decides_the_same_and_refuses_another_format(synth: Any) -> None:
    eng = synth.mesh().views[synth.clusters[0].config.name].engine
    eng.resolve_all()
    flows = sample_flows(eng, 400, random.Random(2))
    before = [eng.decide(*f) for f in flows]
    again = pickle.loads(pickle.dumps(eng))
    assert [again.decide(*f) for f in flows] == before
    assert again.resolve_all() == eng.resolve_all()
    state = eng.__getstate__()
    state["_format"] = PolicyEngine.FORMAT - 1
    with pytest.raises(ValueError, match="another format"):
        PolicyEngine.__new__(PolicyEngine).__setstate__(state)


def test_decisions_are_memoised_per_map_and_cleared_with_the_settings(synth: Any) -> None:
    from cmesh.policy import Settings, Verdict

    eng = synth.mesh().views[synth.clusters[0].config.name].engine
    subject = sorted(eng.local)[0]
    first = eng.decide(Direction.INGRESS, subject, 2, Protocol.TCP, 80)
    assert eng.decide(Direction.INGRESS, subject, 2, Protocol.TCP, 80) is first
    eng.settings = Settings(enforcement="always", audit_mode=True)
    d = eng.decide(Direction.INGRESS, subject, 2, Protocol.TCP, 80)
    assert d.verdict in (Verdict.AUDIT, Verdict.FORWARDED, Verdict.REDIRECTED) and d.default_deny


EGRESS_TO_HTTP = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: out, namespace: d}
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress: [{toPorts: [{ports: [{port: http, protocol: TCP}]}]}]
"""


def test_egress_named_ports_follow_the_clusters_ports_as_identities_change_ref_1_8() -> None:
    """An egress named port resolves against every local endpoint's ports: it stays while any
    identity still names the port, and goes with the last one."""
    from cmesh.labels import Labels
    from cmesh.model import load_text
    from cmesh.policy import ImportContext

    def labels(app: str) -> Labels:
        return Labels([Label("k8s", "app", app), Label("k8s", "io.kubernetes.pod.namespace", "d")])

    eng = PolicyEngine("c1")
    http = [("http", "TCP", 80)]
    for ident, app, ports in ((1000, "client", []), (1001, "a", http), (1002, "b", http)):
        eng.upsert_identity(IdentityInfo(ident, labels(app), "c1"), local=True, named_ports=ports)
    (res,), _ = load_text(EGRESS_TO_HTTP, "p.yaml")
    eng.set_policy(res.key, import_resource(res, ImportContext("c1")))

    def allowed() -> bool:
        return eng.decide(Direction.EGRESS, 1000, 2, Protocol.TCP, 80).allowed

    assert allowed()
    eng.upsert_identity(IdentityInfo(1001, labels("a"), "c1"), local=True, named_ports=[])
    assert allowed()  # b still names it
    _check_maps(eng)
    eng.upsert_identity(IdentityInfo(1002, labels("b"), "c1"), local=True, named_ports=[])
    assert not allowed()
    _check_maps(eng)
    eng.upsert_identity(IdentityInfo(1001, labels("a"), "c1"), local=True, named_ports=http)
    assert allowed()
    _check_maps(eng)
