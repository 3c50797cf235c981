"""The SelectorCache: which identities each selector selects, kept current incrementally.

Mirrors ``pkg/policy/selectorcache.go``.  Identities (local, remote, reserved, CIDR) are indexed
by label so that a label selector is answered by set intersections instead of a scan: every
``In`` requirement narrows the candidates through the index, and only the remaining
requirements (``NotIn``, ``DoesNotExist``, …) are checked per candidate.  When an identity
appears or disappears, only selectors that could match it are re-evaluated, and the caller is
told which selectors changed.

The wildcard selector selects the wildcard identity ``0``, as in Cilium's policy maps.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from cmesh.labels import SOURCE_ANY, EndpointSelector, Labels
from cmesh.labels.selector import Operator
from cmesh.policy.rule import CIDRSelector, FQDNSelector, Selector

WILDCARD_ID = 0


@dataclass(frozen=True, slots=True)
class IdentityInfo:
    """A numeric identity as the engine sees it."""

    id: int
    labels: Labels
    cluster: str = ""
    cidr: str = ""  # the prefix of a CIDR identity
    fqdns: frozenset[str] = frozenset()  # names an FQDN identity was learned for


class SelectorCache:
    def __init__(self) -> None:
        self.identities: dict[int, IdentityInfo] = {}
        self._by_kv: dict[tuple[str, str], set[int]] = defaultdict(set)  # (key, value) any source
        self._by_skv: dict[tuple[str, str, str], set[int]] = defaultdict(set)
        self._by_key: dict[str, set[int]] = defaultdict(set)
        self._by_skey: dict[tuple[str, str], set[int]] = defaultdict(set)
        self._cidr_ids: dict[int, ipaddress.IPv4Network | ipaddress.IPv6Network] = {}
        self._fqdn_ids: set[int] = set()
        self.selections: dict[Selector, frozenset[int]] = {}
        self._users: dict[Selector, int] = defaultdict(int)

    # -- identities ----------------------------------------------------------------------
    def upsert_identity(self, info: IdentityInfo) -> set[Selector]:
        """Add or replace an identity; returns the selectors whose selection changed."""
        old = self.identities.get(info.id)
        if old is not None:
            if old == info:
                return set()
            self._unindex(old)
        self.identities[info.id] = info
        self._index(info)
        return self._reevaluate(info.id)

    def remove_identity(self, ident: int) -> set[Selector]:
        old = self.identities.pop(ident, None)
        if old is None:
            return set()
        self._unindex(old)
        changed = set()
        for sel, ids in self.selections.items():
            if ident in ids:
                self.selections[sel] = ids - {ident}
                changed.add(sel)
        return changed

    def _index(self, info: IdentityInfo) -> None:
        for lb in info.labels.labels():
            self._by_kv[(lb.key, lb.value)].add(info.id)
            self._by_skv[(lb.source, lb.key, lb.value)].add(info.id)
            self._by_key[lb.key].add(info.id)
            self._by_skey[(lb.source, lb.key)].add(info.id)
        if info.cidr:
            self._cidr_ids[info.id] = ipaddress.ip_network(info.cidr)
        if info.fqdns:
            self._fqdn_ids.add(info.id)

    def _unindex(self, info: IdentityInfo) -> None:
        for lb in info.labels.labels():
            self._by_kv[(lb.key, lb.value)].discard(info.id)
            self._by_skv[(lb.source, lb.key, lb.value)].discard(info.id)
            self._by_key[lb.key].discard(info.id)
            self._by_skey[(lb.source, lb.key)].discard(info.id)
        self._cidr_ids.pop(info.id, None)
        self._fqdn_ids.discard(info.id)

    def _reevaluate(self, ident: int) -> set[Selector]:
        info = self.identities[ident]
        changed = set()
        for sel, ids in self.selections.items():
            hit = self._matches_one(sel, info)
            if hit and ident not in ids:
                self.selections[sel] = ids | {ident}
                changed.add(sel)
            elif not hit and ident in ids:
                self.selections[sel] = ids - {ident}
                changed.add(sel)
        return changed

    # -- selectors -----------------------------------------------------------------------
    def add_selector(self, sel: Selector) -> frozenset[int]:
        """Register a user of ``sel`` and return what it selects."""
        self._users[sel] += 1
        got = self.selections.get(sel)
        if got is None:
            got = self._select(sel)
            self.selections[sel] = got
        return got

    def remove_selector(self, sel: Selector) -> None:
        self._users[sel] -= 1
        if self._users[sel] <= 0:
            self._users.pop(sel, None)
            self.selections.pop(sel, None)

    def get(self, sel: Selector) -> frozenset[int]:
        got = self.selections.get(sel)
        return got if got is not None else self._select(sel)

    def _select(self, sel: Selector) -> frozenset[int]:
        if isinstance(sel, EndpointSelector):
            if sel.is_wildcard:
                return frozenset([WILDCARD_ID])
            return frozenset(self._select_labels(sel))
        if isinstance(sel, CIDRSelector):
            return frozenset(
                i for i in self._cidr_ids if self._matches_one(sel, self.identities[i])
            ) | (
                frozenset([2])
                if ipaddress.ip_network(sel.prefix).prefixlen == 0 and 2 in self.identities
                else frozenset()
            )
        return frozenset(i for i in self._fqdn_ids if self._matches_one(sel, self.identities[i]))

    def _select_labels(self, sel: EndpointSelector) -> set[int]:
        cand: set[int] | None = None
        rest = []
        for r in sel.requirements:
            if r.op is Operator.IN:
                s: set[int] = set()
                for v in r.values:
                    s |= (
                        self._by_kv.get((r.key, v), set())
                        if r.source == SOURCE_ANY
                        else self._by_skv.get((r.source, r.key, v), set())
                    )
                cand = s if cand is None else cand & s
            elif r.op is Operator.EXISTS:
                s = (
                    self._by_key.get(r.key, set())
                    if r.source == SOURCE_ANY
                    else self._by_skey.get((r.source, r.key), set())
                )
                cand = set(s) if cand is None else cand & s
            else:
                rest.append(r)
            if cand is not None and not cand:
                return set()
        pool: Iterable[int] = cand if cand is not None else self.identities.keys()
        if not rest:
            return set(pool)
        return {i for i in pool if all(r.matches(self.identities[i].labels) for r in rest)}

    @staticmethod
    def _matches_one(sel: Selector, info: IdentityInfo) -> bool:
        if isinstance(sel, EndpointSelector):
            return not sel.is_wildcard and sel.matches(info.labels)
        if isinstance(sel, CIDRSelector):
            if info.cidr:
                return sel.contains_prefix(info.cidr)
            return info.id == 2 and ipaddress.ip_network(sel.prefix).prefixlen == 0
        if isinstance(sel, FQDNSelector):
            from cmesh.l7.dns import name_or_pattern_matches

            return any(
                name_or_pattern_matches(sel.match_name, sel.match_pattern, n) for n in info.fqdns
            )
        return False

    def users(self) -> dict[Selector, int]:
        return dict(self._users)
