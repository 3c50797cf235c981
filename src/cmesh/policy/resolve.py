"""Distill the rules that select an identity into its SelectorPolicy (``pkg/policy/resolve.go``).

A :class:`SelectorPolicy` is what every endpoint with one identity shares: per direction,
whether it is in default deny and which rules did that, and the flat list of
:class:`PolicyEntry` values — one per (rule element, peer selector, port spec) — each still
keyed by *selector*.  :mod:`cmesh.policy.mapstate` then turns selectors into identities.

Semantics (ref §2.2-§2.6):

* a direction is default-deny when any selecting rule asks for it (``enableDefaultDeny``
  defaults to "this rule has that section"); audited rules (per-policy audit) are tracked apart;
* an element with no L3 field selects every peer (the wildcard selector); ``{}`` allows nothing;
* an element with no ``toPorts``/``icmps`` is L3-only: every protocol and port;
* ``protocol: ANY`` expands to TCP, UDP and SCTP (done at import).
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cmesh.labels import WILDCARD
from cmesh.policy.rule import L7, TLS, PolicyRule, RuleElement, Selector
from cmesh.policy.types import ALL_PORTS, Direction, PolicyRef, PortRange, Protocol


@dataclass(frozen=True, slots=True)
class PolicyEntry:
    """One allow or deny of a selector on a protocol/port, with where it came from."""

    direction: Direction
    selector: Selector
    protocol: Protocol  # ANY: every protocol (L3-only)
    ports: PortRange
    named: str
    deny: bool
    l7: L7 | None
    auth: str
    origin: PolicyRef
    path: str
    audit: bool = False
    server_names: tuple[str, ...] = ()
    terminating_tls: TLS | None = None
    originating_tls: TLS | None = None
    log: str = ""
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash(self._fields()))

    def _fields(self) -> tuple[Any, ...]:
        return (
            self.direction, self.selector, self.protocol, self.ports, self.named, self.deny,
            self.l7, self.auth, self.origin, self.path, self.audit, self.server_names,
            self.terminating_tls, self.originating_tls, self.log,
        )  # fmt: skip

    def __hash__(self) -> int:  # computed once: entries key lookup memos
        return self._hash

    def __reduce__(self) -> tuple[type[PolicyEntry], tuple[Any, ...]]:
        return (PolicyEntry, self._fields())  # through __init__: hashes differ per process

    @property
    def l4_wildcard(self) -> bool:
        return self.protocol is Protocol.ANY and self.ports.wildcard and not self.named


@dataclass(frozen=True, slots=True)
class SelectorPolicy:
    rules: tuple[PolicyRule, ...]
    entries: tuple[PolicyEntry, ...]
    #: rules that put each direction into default deny (enforcing rules only)
    deny_by_default: dict[Direction, tuple[PolicyRef, ...]]
    #: audited rules that would put each direction into default deny
    audit_deny_by_default: dict[Direction, tuple[PolicyRef, ...]]
    #: the entries of each peer selector, in order (what a change of its selection touches)
    by_selector: dict[Selector, tuple[PolicyEntry, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )
    #: whether an audited rule is among ``rules`` (lookups then decide twice, ref §2.12)
    has_audit: bool = field(default=False, compare=False, repr=False)
    #: the engine's lookups of this policy: decisions by the entries that covered a flow,
    #: which is all they depend on besides the policy and the engine's settings (the engine
    #: clears it when those change; it is not pickled)
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def __reduce__(self) -> tuple[type[SelectorPolicy], tuple[Any, ...]]:
        return (
            SelectorPolicy,
            (self.rules, self.entries, self.deny_by_default, self.audit_deny_by_default,
             self.by_selector, self.has_audit),
        )  # fmt: skip

    def default_deny(self, direction: Direction, *, include_audit: bool = False) -> bool:
        if self.deny_by_default[direction]:
            return True
        return include_audit and bool(self.audit_deny_by_default[direction])


def rule_entries(rule: PolicyRule) -> tuple[PolicyEntry, ...]:
    """The entries of one rule, in element order: they do not depend on the subject, so the
    engine computes them once per rule and distils by concatenation."""
    return tuple(pe for e in rule.elements for pe in _element_entries(rule, e))


def _element_entries(rule: PolicyRule, e: RuleElement) -> list[PolicyEntry]:
    if e.allows_nothing:
        return []
    selectors: Sequence[Selector] = (WILDCARD,) if e.peers is None else e.peers
    specs: list[
        tuple[Protocol, PortRange, str, L7 | None, tuple[str, ...], TLS | None, TLS | None]
    ] = []
    if e.icmps is not None:
        for ic in e.icmps:
            proto = Protocol.ICMP if ic.family == "IPv4" else Protocol.ICMPV6
            specs.append((proto, PortRange(ic.type, ic.type), "", None, (), None, None))
    elif e.port_rules is not None:
        for pr in e.port_rules:
            for pp in pr.ports:
                specs.append(
                    (
                        pp.protocol,
                        pp.ports,
                        pp.named,
                        pr.l7,
                        pr.server_names,
                        pr.terminating_tls,
                        pr.originating_tls,
                    )
                )
    else:
        specs.append((Protocol.ANY, ALL_PORTS, "", None, (), None, None))
    return [
        PolicyEntry(
            direction=e.direction,
            selector=sel,
            protocol=proto,
            ports=ports,
            named=named,
            deny=e.deny,
            l7=l7,
            auth=e.auth,
            origin=rule.ref,
            path=e.path,
            audit=rule.audit,
            server_names=sni,
            terminating_tls=ttls,
            originating_tls=otls,
            log=rule.log,
        )
        for sel in selectors
        for proto, ports, named, l7, sni, ttls, otls in specs
    ]


def distill(
    rules: Iterable[PolicyRule],
    entries_of: Callable[[PolicyRule], Sequence[PolicyEntry]] = rule_entries,
) -> SelectorPolicy:
    """The SelectorPolicy of an identity selected by exactly ``rules``.

    ``entries_of`` gives a rule's entries (:func:`rule_entries`, or the engine's copy of it)."""
    ordered = sorted(rules, key=_order)
    by_selector: dict[Selector, list[PolicyEntry]] = {}
    for r in ordered:
        for pe in entries_of(r):
            by_selector.setdefault(pe.selector, []).append(pe)
    return _policy(ordered, entries_of, {sel: tuple(v) for sel, v in by_selector.items()})


def derive(
    sp: SelectorPolicy,
    gone: Iterable[PolicyRule],
    came: Iterable[PolicyRule],
    entries_of: Callable[[PolicyRule], Sequence[PolicyEntry]] = rule_entries,
) -> SelectorPolicy:
    """``sp`` without the rules ``gone`` and with the rules ``came``: what :func:`distill` gives
    for that set (entries of a selector may be listed in another order), without indexing the
    entries of the rules that stay again (a policy change re-derives many identities' policy)."""
    gone = set(gone)
    ordered = [r for r in sp.rules if r not in gone]
    by_selector = dict(sp.by_selector)  # a copy keeps the selectors' hashes
    for r in gone:
        for pe in entries_of(r):
            kept = tuple(x for x in by_selector[pe.selector] if x is not pe)
            if kept:
                by_selector[pe.selector] = kept
            else:
                del by_selector[pe.selector]
    for r in came:
        bisect.insort(ordered, r, key=_order)
        for pe in entries_of(r):
            by_selector[pe.selector] = (*by_selector.get(pe.selector, ()), pe)
    return _policy(ordered, entries_of, by_selector)


def _policy(
    ordered: list[PolicyRule],
    entries_of: Callable[[PolicyRule], Sequence[PolicyEntry]],
    by_selector: dict[Selector, tuple[PolicyEntry, ...]],
) -> SelectorPolicy:
    dd: dict[Direction, list[PolicyRef]] = {Direction.INGRESS: [], Direction.EGRESS: []}
    add: dict[Direction, list[PolicyRef]] = {Direction.INGRESS: [], Direction.EGRESS: []}
    for r in ordered:
        if r.default_deny_ingress:
            (add if r.audit else dd)[Direction.INGRESS].append(r.ref)
        if r.default_deny_egress:
            (add if r.audit else dd)[Direction.EGRESS].append(r.ref)
    return SelectorPolicy(
        tuple(ordered),
        tuple(itertools.chain.from_iterable(map(entries_of, ordered))),
        {d: tuple(v) for d, v in dd.items()},
        {d: tuple(v) for d, v in add.items()},
        by_selector,
        any(r.audit for r in ordered),
    )


def _order(rule: PolicyRule) -> tuple[str, str, str, int, str]:
    ref = rule.ref  # PolicyRef order, as a plain tuple: compared in C, not by dataclass __lt__
    return (ref.kind, ref.namespace, ref.name, ref.rule, ref.source)
