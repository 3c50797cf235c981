"""Leaf value types of the policy engine: directions, protocols, verdicts, reasons, references.

Names and numbers are Cilium's and Hubble's (ref §2.5, §4.1), so they print the way a Cilium
user reads them.  This module imports nothing else of cmesh.

The enums hash by identity (``object.__hash__``, a C slot) instead of ``Enum.__hash__`` (a
Python call hashing the member's name): members are singletons compared by identity, so the
two agree, and ``(Direction, identity)`` is the key of every policy-map probe.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Direction(enum.Enum):
    __hash__ = object.__hash__

    INGRESS = "ingress"
    EGRESS = "egress"


class Protocol(enum.Enum):
    """L4 protocols a policy key can name.  ``ANY`` in a key means every protocol (L3-only)."""

    __hash__ = object.__hash__

    TCP = "TCP"
    UDP = "UDP"
    SCTP = "SCTP"
    ICMP = "ICMP"
    ICMPV6 = "ICMPv6"
    VRRP = "VRRP"
    IGMP = "IGMP"
    ANY = "ANY"

    @classmethod
    def parse(cls, text: str) -> Protocol:
        low = text.strip().upper()
        for p in cls:
            if p.value.upper() == low or p.name == low:
                return p
        if low in ("ICMPV4", "ICMP4"):
            return cls.ICMP
        names = ", ".join(p.value for p in cls if p is not cls.ANY)
        raise ValueError(f"unknown protocol {text!r}: use one of {names}")


#: ``protocol: ANY`` (or empty) in toPorts expands to these three (ref §1.8).
ANY_L4 = (Protocol.TCP, Protocol.UDP, Protocol.SCTP)


class Verdict(enum.Enum):
    """Hubble's flow verdicts (ref §4.1)."""

    __hash__ = object.__hash__

    VERDICT_UNKNOWN = 0
    FORWARDED = 1
    DROPPED = 2
    ERROR = 3
    AUDIT = 4
    REDIRECTED = 5
    TRACED = 6
    TRANSLATED = 7


class DropReason(enum.Enum):
    """Drop reasons used by the policy engine and datapath, with Hubble's numbers (ref §4.1).

    Their human strings (``pkg/monitor/api/drop.go``) are Hubble's: the datapath hands a reason
    over by number, and :func:`cmesh.hubble.drop_reason_text` names it."""

    __hash__ = object.__hash__

    DROP_REASON_UNKNOWN = 0
    POLICY_DENIED = 133
    STALE_OR_UNROUTABLE_IP = 151
    SERVICE_BACKEND_NOT_FOUND = 158
    UNKNOWN_L3_TARGET_ADDRESS = 150
    POLICY_DENY = 181
    AUTH_REQUIRED = 189


class MatchType(enum.Enum):
    """``policy_match_type`` of policy-verdict events (``pkg/monitor/api/types.go``)."""

    __hash__ = object.__hash__

    NONE = 0
    L3_ONLY = 1
    L3_L4 = 2
    L4_ONLY = 3
    ALL = 4
    L3_PROTO = 5
    PROTO_ONLY = 6

    @property
    def text(self) -> str:
        """``api.PolicyMatchType.String()``: ``L3-L4``, ``none``, ..."""
        return _MATCH_TEXT[self]


_MATCH_TEXT = {
    MatchType.NONE: "none",
    MatchType.L3_ONLY: "L3-Only",
    MatchType.L3_L4: "L3-L4",
    MatchType.L4_ONLY: "L4-Only",
    MatchType.ALL: "all",
    MatchType.L3_PROTO: "L3-Proto",
    MatchType.PROTO_ONLY: "Proto-Only",
}


@dataclass(frozen=True, slots=True, order=True)
class PolicyRef:
    """Which policy object (and which of its rules) something came from.

    ``kind`` is CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy or NetworkPolicy;
    ``rule`` indexes ``spec`` (0) then ``specs``; ``source`` is ``file:line``.
    """

    kind: str
    namespace: str
    name: str
    rule: int = 0
    source: str = ""
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        fields = (self.kind, self.namespace, self.name, self.rule, self.source)
        object.__setattr__(self, "_hash", hash(fields))

    def __hash__(self) -> int:  # computed once: decisions collect references in sets
        return self._hash

    def __reduce__(self) -> tuple[type[PolicyRef], tuple[str, str, str, int, str]]:
        # through __init__: string hashes differ between processes
        return (PolicyRef, (self.kind, self.namespace, self.name, self.rule, self.source))

    def __str__(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where}"

    @property
    def short_kind(self) -> str:
        return {
            "CiliumNetworkPolicy": "CNP",
            "CiliumClusterwideNetworkPolicy": "CCNP",
            "NetworkPolicy": "KNP",
        }.get(self.kind, self.kind)


@dataclass(frozen=True, slots=True, order=True)
class PortRange:
    """An inclusive port range; ``0-65535`` is every port (``port: 0`` / no toPorts)."""

    lo: int
    hi: int

    @property
    def wildcard(self) -> bool:
        return self.lo == 0 and self.hi == 65535

    def contains(self, port: int) -> bool:
        return self.lo <= port <= self.hi

    def __str__(self) -> str:
        if self.wildcard:
            return "*"
        return str(self.lo) if self.lo == self.hi else f"{self.lo}-{self.hi}"


ALL_PORTS = PortRange(0, 65535)
