"""The engine's own form of a policy rule: selectors compiled, peers and ports normalised.

What users write (``cmesh.model``) is translated into these values by
:mod:`cmesh.policy.importer`; nothing downstream sees YAML.  One :class:`PolicyRule` is one
Cilium ``api.Rule`` (a CNP has one per ``spec``/``specs`` entry; a NetworkPolicy becomes one).
Each ingress/egress list entry becomes a :class:`RuleElement` whose fields are ANDed; elements
are ORed (ref §1.3).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from cmesh.l7.rules import DNSRule, HTTPRule
from cmesh.labels import EndpointSelector
from cmesh.policy.types import Direction, PolicyRef, PortRange, Protocol

#: A parsed prefix: (address bits, 32 or 128; the network as an integer; the prefix length).
Prefix = tuple[int, int, int]


def parse_prefix(text: str) -> Prefix:
    """``10.0.0.0/8`` → ``(32, 167772160, 8)``; a bare address is a /32 (or /128).

    >>> parse_prefix("10.0.0.0/8"), parse_prefix("2001:db8::1")[::2]
    ((32, 167772160, 8), (128, 128))
    """
    net = ipaddress.ip_network(text, strict=False)
    return (net.max_prefixlen, int(net.network_address), net.prefixlen)


def prefix_within(inner: Prefix, outer: Prefix) -> bool:
    """Is every address of ``inner`` in ``outer``?

    >>> prefix_within(parse_prefix("10.1.0.0/16"), parse_prefix("10.0.0.0/8"))
    True
    >>> prefix_within(parse_prefix("10.0.0.0/8"), parse_prefix("10.1.0.0/16"))
    False
    """
    bits, value, length = outer
    return inner[0] == bits and inner[2] >= length and (inner[1] ^ value) >> (bits - length) == 0


@dataclass(frozen=True, slots=True, order=True)
class CIDRSelector:
    """A CIDR peer: ``prefix`` minus ``excepts`` (ref §1.5).  Matches CIDR identities only.

    The prefixes are parsed once, on construction (an invalid one cannot exist)."""

    prefix: str
    excepts: tuple[str, ...] = ()
    _outer: Prefix = field(init=False, repr=False, compare=False)
    _inner: tuple[Prefix, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_outer", parse_prefix(self.prefix))
        object.__setattr__(self, "_inner", tuple(parse_prefix(e) for e in self.excepts))

    def __reduce__(self) -> tuple[type[CIDRSelector], tuple[str, tuple[str, ...]]]:
        return (CIDRSelector, (self.prefix, self.excepts))

    @property
    def prefix_length(self) -> int:
        return self._outer[2]

    def contains(self, other: Prefix) -> bool:
        """Does this selector cover every address of ``other`` (a CIDR identity's prefix)?"""
        if not prefix_within(other, self._outer):
            return False
        return not any(prefix_within(other, e) for e in self._inner)

    def contains_prefix(self, other: str) -> bool:
        """:meth:`contains` for a prefix written as text."""
        return self.contains(parse_prefix(other))

    def __str__(self) -> str:
        return self.prefix + (f" except {','.join(self.excepts)}" if self.excepts else "")


@dataclass(frozen=True, slots=True, order=True)
class FQDNSelector:
    """A ``toFQDNs`` peer (ref §1.7): matches identities of IPs learned for matching names."""

    match_name: str = ""
    match_pattern: str = ""

    def __str__(self) -> str:
        return f"fqdn:{self.match_name or self.match_pattern}"


Selector = EndpointSelector | CIDRSelector | FQDNSelector


@dataclass(frozen=True, slots=True)
class PortProto:
    """One port spec of a rule: a protocol with a port range, or a named port."""

    protocol: Protocol
    ports: PortRange
    named: str = ""

    def __str__(self) -> str:
        p = self.named or str(self.ports)
        return f"{p}/{self.protocol.value}"


@dataclass(frozen=True, slots=True)
class L7:
    """The L7 part of a port rule: one parser type per rule (ref §1.10)."""

    kind: str  # "http" | "dns" | "kafka" | "generic"
    http: tuple[HTTPRule, ...] = ()
    dns: tuple[DNSRule, ...] = ()
    other: tuple[Any, ...] = ()

    @property
    def rules(self) -> tuple[Any, ...]:
        """The rules of this part, whichever parser they are for (HTTP, DNS, Kafka, generic).

        >>> L7("dns", dns=(DNSRule(match_name="a.example"),)).rules
        (DNSRule(match_name='a.example', match_pattern=''),)
        """
        return self.http or self.dns or self.other


@dataclass(frozen=True, slots=True)
class TLS:
    secret_namespace: str = ""
    secret_name: str = ""
    inline: bool = False


@dataclass(frozen=True, slots=True)
class PortRule:
    """One ``toPorts`` entry: its ports and what applies on them beyond L4."""

    ports: tuple[PortProto, ...]
    l7: L7 | None = None
    server_names: tuple[str, ...] = ()
    terminating_tls: TLS | None = None
    originating_tls: TLS | None = None
    listener: str = ""


@dataclass(frozen=True, slots=True)
class ICMPType:
    family: str  # "IPv4" | "IPv6"
    type: int


@dataclass(frozen=True, slots=True)
class RuleElement:
    """One entry of ``ingress``/``ingressDeny``/``egress``/``egressDeny``.

    ``peers`` is ``None`` when no L3 field was written (every peer, ref §1.3) and ``()`` when
    a peer field was written empty (no peer).  ``port_rules`` is ``None`` for "all ports and
    protocols" (an L3-only rule).  ``allows_nothing`` marks ``{}`` (ref §2.3).
    """

    direction: Direction
    deny: bool
    peers: tuple[Selector, ...] | None
    peer_kind: str
    port_rules: tuple[PortRule, ...] | None
    icmps: tuple[ICMPType, ...] | None = None
    auth: str = ""
    path: str = ""
    line: int = 0
    allows_nothing: bool = False


@dataclass(frozen=True, slots=True)
class PolicyRule:
    """A rule with its subject, elements and default-deny posture per direction (ref §2.2)."""

    ref: PolicyRef
    subject: EndpointSelector
    elements: tuple[RuleElement, ...]
    default_deny_ingress: bool
    default_deny_egress: bool
    audit: bool = False
    log: str = ""
    description: str = ""
    labels: tuple[str, ...] = field(default=())
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Rules key the engine's tables (sets of selecting rules, per-rule entries); hashing
        # the whole tree on every probe would dominate, so the hash is computed once.
        object.__setattr__(
            self,
            "_hash",
            hash((self.ref, self.subject, self.elements, self.default_deny_ingress,
                  self.default_deny_egress, self.audit, self.log, self.description, self.labels)),
        )  # fmt: skip

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[type[PolicyRule], tuple[Any, ...]]:
        # Unpickle through __init__: string hashes differ between processes.
        return (
            PolicyRule,
            (self.ref, self.subject, self.elements, self.default_deny_ingress,
             self.default_deny_egress, self.audit, self.log, self.description, self.labels),
        )  # fmt: skip

    def elements_for(self, direction: Direction) -> tuple[RuleElement, ...]:
        return tuple(e for e in self.elements if e.direction is direction)

    def default_deny(self, direction: Direction) -> bool:
        return (
            self.default_deny_ingress
            if direction is Direction.INGRESS
            else self.default_deny_egress
        )

    def has_section(self, direction: Direction) -> bool:
        return any(e.direction is direction for e in self.elements)
