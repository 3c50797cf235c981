"""The local endpoints' policy maps, kept current (Cilium's ``EndpointPolicy`` and ``MapChanges``).

A map is per endpoint, not per identity: ingress named ports resolve against the endpoint's own
container ports (ref §1.8), so the maps of an identity are keyed by the named ports of its
endpoints, and endpoints with equal named ports share one map.  A map is materialised on first
use and from then on changed in place:

* a selector gains or loses an identity (:meth:`EndpointMaps.selections_changed`): every map
  whose policy has entries with that selector gains or loses that identity's key entries
  (``_sel_maps`` says which maps to look at, a superset cleaned as it is read);
* a rule starts or stops selecting an identity (:meth:`EndpointMaps.rules_changed`): that
  rule's entries are added to or removed from the identity's maps;
* the cluster's named ports change (:meth:`EndpointMaps.named_ports_changed`): egress named
  entries are resolved again; an identity's own named ports change: the engine drops its maps.

Invariant: every map holds what :func:`materialize` would build from its SelectorPolicy and the
current selections, up to the order of entries within a key (which no decision depends on).

A rule's entries without a named port have one map entry each, made when the rule arrives and
shared by every map (``_fixed``, keyed by the entry object's id: rebuilt when unpickled).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from cmesh.policy.mapstate import KeyTable, MapEntry, MapState, NamedPorts, NamedPortSpec
from cmesh.policy.mapstate import materialize as _materialize
from cmesh.policy.resolve import PolicyEntry, SelectorPolicy
from cmesh.policy.rule import PolicyRule, Selector
from cmesh.policy.selectorcache import SelectionChanges
from cmesh.policy.types import Direction

MapID = tuple[int, NamedPorts]  # (identity, the named ports of its endpoints)


class EndpointMaps:
    def __init__(
        self,
        selections: Callable[[Selector], frozenset[int]],
        rule_entries: dict[PolicyRule, tuple[PolicyEntry, ...]],
        named_all: Counter[NamedPortSpec],
    ) -> None:
        self._selections = selections
        self._rule_entries = rule_entries  # the engine's, shared
        self._named_all = named_all  # the engine's, shared
        self.maps: dict[int, dict[NamedPorts, MapState]] = {}
        #: identity -> the map of all its named ports (what lookups without ports use)
        self.default: dict[int, MapState] = {}
        self._sel_maps: dict[Selector, set[MapID]] = {}
        self._keys = KeyTable()
        self._fixed: dict[int, tuple[MapEntry, ...]] = {}  # id(entry) -> its map entries
        self._uids = 0  # the last MapEntry.uid given

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        del state["_fixed"]  # keyed by object id
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._fixed = {}
        for entries in self._rule_entries.values():
            self.fix(entries)

    # -- map entries of policy entries ---------------------------------------------------
    def fix(self, entries: Iterable[PolicyEntry]) -> None:
        """Make the map entries of ``entries`` that do not depend on the endpoint; an egress
        named port's are made when first needed (and again when named ports change)."""
        for e in entries:
            if not e.named:
                self._fixed[id(e)] = (self._entry(e, e.ports.lo, e.ports.hi),)

    def _entry(self, e: PolicyEntry, lo: int, hi: int) -> MapEntry:
        self._uids += 1
        return MapEntry(e.protocol, lo, hi, e, self._uids)

    def unfix(self, entries: Iterable[PolicyEntry]) -> None:
        for e in entries:
            self._fixed.pop(id(e), None)

    def entries_of(self, e: PolicyEntry, named_ports: NamedPorts) -> tuple[MapEntry, ...]:
        """The map entries of ``e`` for endpoints with ``named_ports`` (ref §1.8)."""
        fixed = self._fixed.get(id(e))
        if fixed is not None:
            return fixed
        proto = e.protocol.value
        if e.direction is Direction.INGRESS:
            ports = {p for n, pr, p in named_ports if n == e.named and pr == proto}
            return tuple(self._entry(e, p, p) for p in sorted(ports))
        # Egress: the same for every map until the cluster's named ports change.
        ports = {p for (n, pr, p) in self._named_all if n == e.named and pr == proto}
        fixed = tuple(self._entry(e, p, p) for p in sorted(ports))
        self._fixed[id(e)] = fixed
        return fixed

    # -- maps ----------------------------------------------------------------------------
    def get(self, ident: int, variant: NamedPorts) -> MapState | None:
        return self.maps.get(ident, {}).get(variant)

    def materialize(
        self, ident: int, variant: NamedPorts, sp: SelectorPolicy, default: bool
    ) -> MapState:
        """Build the map of ``ident``'s endpoints with named ports ``variant``; ``default``:
        it is the identity's map for lookups that name no ports."""
        ms = _materialize(
            sp, self._selections, lambda e: self.entries_of(e, variant), variant, self._keys
        )
        self.maps.setdefault(ident, {})[variant] = ms
        if default:
            self.default[ident] = ms
        mid = (ident, variant)
        for sel in sp.by_selector:
            self._sel_maps.setdefault(sel, set()).add(mid)
        return ms

    def drop(self, ident: int) -> None:
        """Forget the maps of ``ident`` (built again on next use)."""
        self.maps.pop(ident, None)
        self.default.pop(ident, None)

    def forget_identity(self, ident: int) -> None:
        """``ident`` is gone: its maps, and its keys in the key table."""
        self.drop(ident)
        self._keys.forget(ident)

    def forget_selector(self, sel: Selector) -> None:
        self._sel_maps.pop(sel, None)

    def clear_memos(self) -> None:
        for maps in self.maps.values():
            for ms in maps.values():
                if ms.sp is not None:
                    ms.sp.memo.clear()

    # -- changes -------------------------------------------------------------------------
    def rules_changed(
        self,
        ident: int,
        sp: SelectorPolicy,
        gone: Iterable[PolicyRule],
        came: Iterable[PolicyRule],
    ) -> None:
        """The rules ``gone`` stopped and ``came`` started selecting ``ident``, whose policy is
        now ``sp``: take their entries out of and into its maps."""
        get = self._selections
        for variant, ms in self.maps.get(ident, {}).items():
            for r in gone:
                for e in self._rule_entries[r]:
                    ids = get(e.selector)
                    if ids:
                        ms.remove(e.direction, ids, e)
            ms.set_policy(sp)
            mid = (ident, variant)
            for r in came:
                for e in self._rule_entries[r]:
                    self._sel_maps.setdefault(e.selector, set()).add(mid)
                    ids = get(e.selector)
                    if ids:
                        ms.add_entries(e.direction, ids, self.entries_of(e, variant))

    def selections_changed(self, ident: int, changes: SelectionChanges) -> None:
        """``ident`` joined or left the selections of ``changes``: change the maps that use them."""
        for sel, now in changes.items():
            mids = self._sel_maps.get(sel)
            if not mids:
                continue
            for mid in list(mids):
                ms = self.get(*mid)
                entries = ms.sp.by_selector.get(sel) if ms is not None and ms.sp else None
                if not entries:
                    mids.discard(mid)  # the map went, or its policy no longer has ``sel``
                    continue
                for e in entries:
                    if now:
                        ms.add_entries(e.direction, (ident,), self.entries_of(e, mid[1]))
                    else:
                        ms.remove(e.direction, (ident,), e)

    def named_ports_changed(self, names: set[str]) -> None:
        """The cluster's named ports ``names`` changed: resolve egress named entries again."""
        get = self._selections
        for entries in self._rule_entries.values():
            for e in entries:
                if e.named and e.direction is Direction.EGRESS:
                    self._fixed.pop(id(e), None)
        for maps in self.maps.values():
            for variant, ms in maps.items():
                for e in ms.sp.entries if ms.sp else ():
                    if e.named in names and e.direction is Direction.EGRESS:
                        ids = get(e.selector)
                        if ids:
                            ms.remove(e.direction, ids, e)
                            ms.add_entries(e.direction, ids, self.entries_of(e, variant))
