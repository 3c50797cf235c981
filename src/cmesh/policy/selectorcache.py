"""The SelectorCache: which identities each selector selects, kept current incrementally.

Mirrors ``pkg/policy/selectorcache.go``.  Two indexes make it incremental both ways:

* identities (local, remote, reserved, CIDR) are indexed by label, so that a new label
  selector is answered by set intersections instead of a scan: every ``In`` requirement
  narrows the candidates through the index, and only the remaining requirements (``NotIn``,
  ``DoesNotExist``, …) are checked per candidate;
* selectors are indexed by one label they require (the ``In`` value or ``Exists`` key with the
  fewest identities when the selector is registered), so that when an identity appears,
  changes or disappears only the selectors that could select it are checked — those indexed
  under one of its labels, those with no ``In``/``Exists`` requirement, CIDR selectors for a
  CIDR identity (and ``world``), FQDN selectors for an FQDN identity.

Identity changes return what changed as ``{selector: selects the identity now}``, which the
engine turns into policy-map changes.  The wildcard selector selects the wildcard identity
``0``, as in Cilium's policy maps.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from cmesh.labels import SOURCE_ANY, EndpointSelector, Labels
from cmesh.labels.selector import Operator
from cmesh.policy.rule import CIDRSelector, FQDNSelector, Prefix, Selector, parse_prefix

WILDCARD_ID = 0
WORLD_ID = 2

#: For one identity: each selector whose selection changed, and whether it now selects it.
SelectionChanges = dict[Selector, bool]
_IndexKey = tuple[str, str] | str  # (key, value) of an In requirement, or an Exists key


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
        self._cidr_ids: dict[int, Prefix] = {}
        self._fqdn_ids: set[int] = set()
        self.selections: dict[Selector, frozenset[int]] = {}
        self._users: dict[Selector, int] = defaultdict(int)
        # selectors by one label they require (see the module docstring)
        self._sel_index: dict[_IndexKey, set[EndpointSelector]] = defaultdict(set)
        self._sel_key: dict[EndpointSelector, _IndexKey | None] = {}
        self._sel_rest: set[EndpointSelector] = set()  # no In/Exists requirement
        self._cidr_sels: set[CIDRSelector] = set()
        self._fqdn_sels: set[FQDNSelector] = set()

    # -- identities ----------------------------------------------------------------------
    def upsert_identity(self, info: IdentityInfo) -> SelectionChanges:
        """Add or replace an identity; returns the selectors whose selection changed."""
        old = self.identities.get(info.id)
        if old is not None:
            if old == info:
                return {}
            self._unindex(old)
        self.identities[info.id] = info
        self._index(info)
        cands = self._candidates(info)
        if old is not None:
            cands |= self._candidates(old)
        return self._reevaluate(info, cands)

    def remove_identity(self, ident: int) -> SelectionChanges:
        old = self.identities.pop(ident, None)
        if old is None:
            return {}
        self._unindex(old)
        changed: SelectionChanges = {}
        for sel in self._candidates(old):
            ids = self.selections.get(sel)
            if ids is not None and ident in ids:
                self.selections[sel] = ids - {ident}
                changed[sel] = False
        return changed

    def _index(self, info: IdentityInfo) -> None:
        for lb in info.labels.labels():
            self._by_kv[(lb.key, lb.value)].add(info.id)
            self._by_skv[(lb.source, lb.key, lb.value)].add(info.id)
            self._by_key[lb.key].add(info.id)
            self._by_skey[(lb.source, lb.key)].add(info.id)
        if info.cidr:
            self._cidr_ids[info.id] = parse_prefix(info.cidr)
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

    def _candidates(self, info: IdentityInfo) -> set[Selector]:
        """Registered selectors that could select ``info`` (a superset of those that do)."""
        out: set[Selector] = set(self._sel_rest)
        index = self._sel_index
        for lb in info.labels.labels():
            for k in ((lb.key, lb.value), lb.key):
                sels = index.get(k)
                if sels:
                    out |= sels
        if info.cidr or info.id == WORLD_ID:
            out |= self._cidr_sels
        if info.fqdns:
            out |= self._fqdn_sels
        return out

    def _reevaluate(self, info: IdentityInfo, cands: Iterable[Selector]) -> SelectionChanges:
        ident = info.id
        changed: SelectionChanges = {}
        for sel in cands:
            ids = self.selections.get(sel)
            if ids is None:
                continue
            hit = self._matches_one(sel, info)
            if hit and ident not in ids:
                self.selections[sel] = ids | {ident}
                changed[sel] = True
            elif not hit and ident in ids:
                self.selections[sel] = ids - {ident}
                changed[sel] = False
        return changed

    # -- selectors -----------------------------------------------------------------------
    def add_selector(self, sel: Selector) -> frozenset[int]:
        """Register a user of ``sel`` and return what it selects."""
        self._users[sel] += 1
        got = self.selections.get(sel)
        if got is None:
            got = self._select(sel)
            self.selections[sel] = got
            self._index_selector(sel)
        return got

    def remove_selector(self, sel: Selector) -> bool:
        """Drop a user of ``sel``; returns whether that was the last (the cache forgets it)."""
        self._users[sel] -= 1
        if self._users[sel] > 0:
            return False
        self._users.pop(sel, None)
        if self.selections.pop(sel, None) is not None:
            self._unindex_selector(sel)
        return True

    def _index_selector(self, sel: Selector) -> None:
        if isinstance(sel, CIDRSelector):
            self._cidr_sels.add(sel)
        elif isinstance(sel, FQDNSelector):
            self._fqdn_sels.add(sel)
        elif not sel.is_wildcard:  # the wildcard selects identity 0, whatever identities do
            key = self._index_key(sel)
            self._sel_key[sel] = key
            if key is None:
                self._sel_rest.add(sel)
            else:
                self._sel_index[key].add(sel)

    def _unindex_selector(self, sel: Selector) -> None:
        if isinstance(sel, CIDRSelector):
            self._cidr_sels.discard(sel)
        elif isinstance(sel, FQDNSelector):
            self._fqdn_sels.discard(sel)
        elif sel in self._sel_key:
            key = self._sel_key.pop(sel)
            if key is None:
                self._sel_rest.discard(sel)
            else:
                self._sel_index[key].discard(sel)
                if not self._sel_index[key]:
                    del self._sel_index[key]

    def _index_key(self, sel: EndpointSelector) -> _IndexKey | None:
        """The required label to index ``sel`` under: the one fewest identities carry now.

        An ``In`` requirement with one value is a ``(key, value)``; with several (any of them
        may match) it counts as its key alone, as ``Exists`` does."""
        best: tuple[int, _IndexKey] | None = None
        for r in sel.requirements:
            if r.op is Operator.IN and len(r.values) == 1:
                (value,) = r.values
                n = len(self._by_kv.get((r.key, value), ()))
                if best is None or n < best[0]:
                    best = (n, (r.key, value))
            elif r.op is Operator.EXISTS or r.op is Operator.IN:
                n = len(self._by_key.get(r.key, ()))
                if best is None or n < best[0]:
                    best = (n, r.key)
        return best[1] if best is not None else None

    def get(self, sel: Selector) -> frozenset[int]:
        got = self.selections.get(sel)
        return got if got is not None else self._select(sel)

    def _select(self, sel: Selector) -> frozenset[int]:
        if isinstance(sel, EndpointSelector):
            if sel.is_wildcard:
                return frozenset([WILDCARD_ID])
            return frozenset(self._select_labels(sel))
        if isinstance(sel, CIDRSelector):
            out = {i for i, p in self._cidr_ids.items() if sel.contains(p)}
            if sel.prefix_length == 0 and WORLD_ID in self.identities:
                out.add(WORLD_ID)
            return frozenset(out)
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

    def _matches_one(self, sel: Selector, info: IdentityInfo) -> bool:
        if isinstance(sel, EndpointSelector):
            return not sel.is_wildcard and sel.matches(info.labels)
        if isinstance(sel, CIDRSelector):
            prefix = self._cidr_ids.get(info.id)
            if prefix is not None:
                return sel.contains(prefix)
            return info.id == WORLD_ID and sel.prefix_length == 0
        if isinstance(sel, FQDNSelector):
            from cmesh.l7.dns import name_or_pattern_matches

            return any(
                name_or_pattern_matches(sel.match_name, sel.match_pattern, n) for n in info.fqdns
            )
        return False
