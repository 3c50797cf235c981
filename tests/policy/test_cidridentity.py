"""CIDR identities: one per prefix policies name or address the DNS proxy learned (ref §1.5)."""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from cmesh.identity import MIN_LOCAL_IDENTITY
from cmesh.labels import Label, Labels
from cmesh.policy import IdentityInfo, PolicyEngine
from cmesh.policy.cidridentity import CIDRIdentities, host_prefix


def test_an_address_gets_its_longest_prefix_identity_else_world_ref_1_5() -> None:
    c = CIDRIdentities()
    c.ref(["10.0.0.0/8", "10.1.0.0/16", "2001:db8::/32", "0.0.0.0/0"], 1)
    assert c.stale() == []
    infos = {i.cidr: i.id for i in c.fresh({})}
    assert infos["0.0.0.0/0"] == MIN_LOCAL_IDENTITY  # shortest first: stable numbers
    assert c.lookup("10.1.2.3") == infos["10.1.0.0/16"]
    assert c.lookup("10.2.2.3") == infos["10.0.0.0/8"]
    assert c.lookup("192.0.2.1") == infos["0.0.0.0/0"]
    assert c.lookup("2001:db8::1") == infos["2001:db8::/32"]
    assert c.lookup("2001:db9::1") == 2
    c.ref(["10.1.0.0/16"], -1)
    assert c.stale() == [infos["10.1.0.0/16"]]
    assert c.fresh({}) == [] and c.lookup("10.1.2.3") == infos["10.0.0.0/8"]


def test_learned_addresses_get_host_prefixes_with_their_names_ref_2_11() -> None:
    eng = PolicyEngine("c1")
    eng.upsert_identity(IdentityInfo(2, Labels([Label("reserved", "world")])))
    eng.learn_fqdn("api.example.com", ["203.0.113.9", "2001:db8::9"])
    assert host_prefix("2001:db8::9") == "2001:db8::9/128"
    for ip in ("203.0.113.9", "2001:db8::9"):
        info = eng.identity(eng.world_identity(ip))
        assert info is not None and info.cidr == host_prefix(ip)
        assert info.fqdns == frozenset({"api.example.com."})
    eng.forget_fqdn("203.0.113.9")
    assert eng.world_identity("203.0.113.9") == 2


_PREFIXES = ["0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.3/32", "10.2.0.0/16"]
_ADDRS = ["10.1.2.3", "10.1.2.4", "10.1.9.9", "10.2.0.1", "10.9.9.9", "192.0.2.1"]


@given(st.lists(st.tuples(st.sampled_from(_PREFIXES), st.sampled_from([1, -1])), max_size=25))
def test_lookups_follow_prefixes_as_rules_come_and_go_ref_1_5(
    steps: list[tuple[str, int]],
) -> None:
    """The per-length tables are kept as prefixes come and go; every lookup is still the
    longest wanted prefix containing the address (else world)."""
    c = CIDRIdentities()
    for prefix, delta in steps:
        if delta < 0 and not c.refs[prefix]:
            continue
        c.ref([prefix], delta)
        c.stale()
        c.fresh({})
        for addr in _ADDRS:
            ip = ipaddress.ip_address(addr)
            best = max(
                (ipaddress.ip_network(p) for p in c.refs if ip in ipaddress.ip_network(p)),
                key=lambda n: n.prefixlen,
                default=None,
            )
            assert c.lookup(addr) == (c.ids[str(best)] if best else 2)
