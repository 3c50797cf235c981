"""The Repository: every rule of a cluster, by policy object (``pkg/policy/repository.go``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from cmesh.policy.rule import CIDRSelector, PolicyRule, Selector

PolicyKey = tuple[str, str, str]  # (kind, namespace, name)


@dataclass
class Repository:
    policies: dict[PolicyKey, tuple[PolicyRule, ...]] = field(default_factory=dict)
    revision: int = 0

    def replace(
        self, key: PolicyKey, rules: Iterable[PolicyRule]
    ) -> tuple[tuple[PolicyRule, ...], tuple[PolicyRule, ...]]:
        """Set the rules of one policy object; returns (old rules, new rules)."""
        old = self.policies.pop(key, ())
        new = tuple(rules)
        if new:
            self.policies[key] = new
        self.revision += 1
        return old, new

    def rules(self) -> Iterator[PolicyRule]:
        for rules in self.policies.values():
            yield from rules

    def __len__(self) -> int:
        return sum(len(r) for r in self.policies.values())


def peer_selectors(rule: PolicyRule) -> set[Selector]:
    from cmesh.labels import WILDCARD

    out: set[Selector] = set()
    for e in rule.elements:
        if e.allows_nothing:
            continue
        out.update(e.peers if e.peers is not None else (WILDCARD,))
    return out


def cidr_prefixes(rule: PolicyRule) -> set[str]:
    out: set[str] = set()
    for sel in peer_selectors(rule):
        if isinstance(sel, CIDRSelector):
            out.add(sel.prefix)
            out.update(sel.excepts)
    return out
