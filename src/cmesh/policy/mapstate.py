"""MapState: a SelectorPolicy with selectors replaced by identities (``pkg/policy/mapstate.go``).

Keys are ``(direction, peer identity)``; identity ``0`` is the wildcard, as in the BPF policy
map.  Each key holds the entries that apply to that peer, with their protocol and port range.
A verdict is then a probe of two keys — the peer's and the wildcard — never a walk over rules.

A map belongs to the endpoints of one identity that have the same named ports: named ports
are resolved to numbers here, on ingress against the endpoint's own container ports, on egress
against every endpoint's (ref §1.8, Cilium's named-port map).  A named entry's
:class:`MapEntry` keeps the :class:`PolicyEntry` as written (``named`` set) and carries the
resolved port in ``lo``/``hi``.

The engine keeps maps current incrementally, as Cilium's ``MapChanges`` do: when a selector's
selection gains or loses an identity, only that identity's keys change (:meth:`MapState.add`,
:meth:`MapState.remove`); when a rule starts or stops selecting the endpoint, only that rule's
entries are added or removed.  Entries are removed by the identity of their PolicyEntry
object, which the engine creates once per rule.  ``count`` is the number of entries, kept by
those methods (``len()`` recounts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cmesh.policy.resolve import PolicyEntry, SelectorPolicy
from cmesh.policy.rule import Selector
from cmesh.policy.types import Direction, Protocol

NamedPortSpec = tuple[str, str, int]  # (name, protocol, port)
NamedPorts = tuple[NamedPortSpec, ...]  # sorted, without duplicates
MapKey = tuple[Direction, int]


@dataclass(frozen=True, slots=True)
class MapEntry:
    """One entry of a key: a protocol and inclusive port range, and the entry it came from.

    ``uid`` numbers the entries an engine makes (never reused, unlike ``id()``): lookups
    memoise decisions by the uids of the entries that covered a flow.  Computed once, for
    lookups: ``order`` sorts entries in policy order (the policy reference, the rule path, the
    ports; decisions list their entries in that order) and ``spec`` ranks how specific the
    entry is (a protocol over any, then a narrower range).
    """

    protocol: Protocol
    lo: int
    hi: int
    entry: PolicyEntry
    uid: int = field(default=0, repr=False, compare=False)
    order: tuple[Any, ...] = field(init=False, repr=False, compare=False)
    spec: tuple[bool, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        e = self.entry
        ref = e.origin if e is not None else None
        order = (
            (ref.kind, ref.namespace, ref.name, ref.rule, ref.source, e.path, self.lo, self.hi,
             self.protocol.value)
            if ref is not None
            else ()
        )  # fmt: skip
        object.__setattr__(self, "order", order)
        object.__setattr__(self, "spec", (self.protocol is not Protocol.ANY, self.lo - self.hi))

    def __reduce__(self) -> tuple[type[MapEntry], tuple[Any, ...]]:
        return (MapEntry, (self.protocol, self.lo, self.hi, self.entry, self.uid))


class MapState:
    """The policy map of the endpoints of one identity with one set of named ports.

    ``keys`` maps ``(direction, identity)`` to a tuple of entries.  Tuples are shared between
    keys and maps (a selector's entries go to every identity it selects as one tuple), so a
    change replaces a key's tuple and never mutates one; keys come from the engine's
    :class:`KeyTable` and are shared too.  A map of a cluster holds a few million entries: the
    fewer objects it allocates, the less the garbage collector has to walk.
    """

    def __init__(self, sp: SelectorPolicy | None = None, named_ports: NamedPorts = ()) -> None:
        self.keys: dict[MapKey, Sequence[MapEntry]] = {}
        #: the SelectorPolicy the entries come from (``None`` for a hand-made map)
        self.sp = sp
        self.named_ports = named_ports
        self.count = 0

    def set_policy(self, sp: SelectorPolicy) -> None:
        """The SelectorPolicy changed (the caller changes the entries to match)."""
        self.sp = sp

    def add_entries(
        self, direction: Direction, idents: Iterable[int], mes: Sequence[MapEntry]
    ) -> None:
        """Add ``mes`` to the key of every identity in ``idents``."""
        if not mes:
            return
        mes = tuple(mes)
        keys, n = self.keys, 0
        for ident in idents:
            old = keys.get((direction, ident))
            keys[(direction, ident)] = mes if old is None else (*old, *mes)
            n += 1
        self.count += n * len(mes)

    def remove(self, direction: Direction, idents: Iterable[int], entry: PolicyEntry) -> None:
        """Remove every MapEntry of ``entry`` (by identity) from the keys of ``idents``."""
        keys = self.keys
        for ident in idents:
            old = keys.get((direction, ident))
            if old is None:
                continue
            kept = [me for me in old if me.entry is not entry]
            if len(kept) != len(old):
                self.count -= len(old) - len(kept)
                if kept:
                    keys[(direction, ident)] = tuple(kept)
                else:
                    del keys[(direction, ident)]

    def __len__(self) -> int:
        return sum(len(v) for v in self.keys.values())


class KeyTable:
    """The ``(direction, identity)`` key tuples, one of each for all an engine's maps."""

    def __init__(self) -> None:
        self.rows: dict[Direction, dict[int, MapKey]] = {d: {} for d in Direction}

    def forget(self, ident: int) -> None:
        for row in self.rows.values():
            row.pop(ident, None)


def materialize(
    sp: SelectorPolicy,
    selections: Callable[[Selector], frozenset[int]],
    entries_of: Callable[[PolicyEntry], Sequence[MapEntry]],
    named_ports: NamedPorts = (),
    key_table: KeyTable | None = None,
) -> MapState:
    """The map of ``sp`` under the current ``selections``; ``entries_of`` gives each entry's
    map entries (resolved for these endpoints' named ports) as a tuple."""
    ms = MapState(sp, named_ports)
    rows = (key_table or KeyTable()).rows
    keys, n = ms.keys, 0
    for sel, entries in sp.by_selector.items():
        ids = selections(sel)
        if not ids:
            continue
        by_dir: dict[Direction, tuple[MapEntry, ...]] = {}
        for e in entries:
            mes = tuple(entries_of(e))
            if mes:
                got = by_dir.get(e.direction)
                by_dir[e.direction] = mes if got is None else (*got, *mes)
        for d, mes in by_dir.items():
            row = rows[d]
            for ident in ids:
                k = row.get(ident)
                if k is None:
                    k = row[ident] = (d, ident)
                old = keys.get(k)
                keys[k] = mes if old is None else (*old, *mes)
            n += len(ids) * len(mes)
    ms.count = n
    return ms
