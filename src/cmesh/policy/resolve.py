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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cmesh.labels import WILDCARD
from cmesh.policy.rule import L7, TLS, ICMPType, PolicyRule, RuleElement, Selector
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

    @property
    def l3_wildcard(self) -> bool:
        return self.selector == WILDCARD

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

    def default_deny(self, direction: Direction, *, include_audit: bool = False) -> bool:
        if self.deny_by_default[direction]:
            return True
        return include_audit and bool(self.audit_deny_by_default[direction])

    def entries_for(self, direction: Direction) -> Iterable[PolicyEntry]:
        return (e for e in self.entries if e.direction is direction)

    @property
    def selectors(self) -> set[Selector]:
        return {e.selector for e in self.entries}


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


def distill(rules: Iterable[PolicyRule]) -> SelectorPolicy:
    """The SelectorPolicy of an identity selected by exactly ``rules``."""
    rules = tuple(sorted(rules, key=lambda r: r.ref))
    entries: list[PolicyEntry] = []
    dd: dict[Direction, list[PolicyRef]] = {Direction.INGRESS: [], Direction.EGRESS: []}
    add: dict[Direction, list[PolicyRef]] = {Direction.INGRESS: [], Direction.EGRESS: []}
    for r in rules:
        for d in Direction:
            if r.default_deny(d):
                (add if r.audit else dd)[d].append(r.ref)
        for e in r.elements:
            entries.extend(_element_entries(r, e))
    return SelectorPolicy(
        rules,
        tuple(entries),
        {d: tuple(v) for d, v in dd.items()},
        {d: tuple(v) for d, v in add.items()},
    )


def icmp_key(ic: ICMPType) -> tuple[Protocol, int]:
    return (Protocol.ICMP if ic.family == "IPv4" else Protocol.ICMPV6, ic.type)
