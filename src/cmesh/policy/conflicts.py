"""L7 parser conflicts between policies: what Cilium cannot compute (ref §2.6).

Cilium keeps one L7 parser per port/protocol of an endpoint's policy (``L4Filter.L7Parser``).
When two rules that select the same endpoint put different parsers on one port/protocol, say
HTTP and DNS rules on 53/UDP, ``L7ParserType.Merge`` fails with "cannot merge conflicting L7
parsers", the endpoint's policy cannot be computed, and its regeneration fails
(``pkg/policy/l4.go``).  Within one policy cmesh refuses such rules when they are applied
(:mod:`cmesh.policy.validate`); across policies the conflict exists only for the endpoints both
select, so it is found here, per identity, and reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cmesh.errors import Diagnostic, Severity
from cmesh.policy.resolve import PolicyEntry, SelectorPolicy
from cmesh.policy.types import Direction, PolicyRef, Protocol

if TYPE_CHECKING:
    from cmesh.policy.engine import PolicyEngine
    from cmesh.policy.view import ClusterView

#: An ``ANY`` port rule is a TCP, a UDP and an SCTP filter in Cilium.
_EXPANDED = {Protocol.ANY: (Protocol.TCP, Protocol.UDP, Protocol.SCTP)}


@dataclass(frozen=True, slots=True)
class L7Conflict:
    direction: Direction
    protocol: Protocol
    port: str  # "53", "8000-8080" or a port name
    first: tuple[str, PolicyRef]  # (parser, the policy that brought it)
    second: tuple[str, PolicyRef]

    def covers(self, port: int) -> bool:
        """Whether the conflicting filter is on ``port`` (``*`` and a port name: any port;
        a name stands for whichever number the endpoints give it)."""
        lo, _, hi = self.port.partition("-")
        return not lo.isdigit() or int(lo) <= port <= int(hi or lo)

    @property
    def consequence(self) -> str:
        """What Cilium does about it (the same words wherever it is reported)."""
        return (
            f"Cilium cannot merge conflicting L7 parsers ({self.first[0]}/{self.second[0]}) "
            "and fails to compute that endpoint's policy"
        )

    def __str__(self) -> str:
        (a, pa), (b, pb) = self.first, self.second
        return (
            f"{pa} ({a}) and {pb} ({b}) put L7 rules on port {self.port}/"
            f"{self.protocol.value} at {self.direction.value}"
        )


_Key = tuple[Direction, Protocol, str]


def _l7_filters(entries: Iterable[PolicyEntry]) -> Iterator[tuple[_Key, str, PolicyRef]]:
    """(direction, protocol, port) of each allow entry with L7 rules, its parser and policy."""
    for e in entries:
        if e.deny or e.l7 is None or not e.l7.kind:
            continue
        port = e.named or str(e.ports)
        for proto in _EXPANDED.get(e.protocol, (e.protocol,)):
            yield (e.direction, proto, port), e.l7.kind, e.origin


def l7_conflicts(sp: SelectorPolicy) -> Iterator[L7Conflict]:
    """Each port/protocol of one identity's policy where two parsers meet (first pair only)."""
    seen: dict[_Key, tuple[str, PolicyRef]] = {}
    reported: set[_Key] = set()
    for key, kind, origin in _l7_filters(sp.entries):
        first = seen.setdefault(key, (kind, origin))
        if first[0] != kind and key not in reported:
            reported.add(key)
            yield L7Conflict(*key, first, (kind, origin))


def _may_conflict(engine: PolicyEngine) -> bool:
    """Whether any port/protocol carries two parsers across all the cluster's rules: without
    one no endpoint can have a conflict, and no identity's policy needs computing."""
    kinds: dict[_Key, str] = {}
    for rule in engine.repo.rules():
        for key, kind, _ in _l7_filters(engine.imported_entries(rule)):
            if kinds.setdefault(key, kind) != kind:
                return True
    return False


def conflict_diagnostics(view: ClusterView) -> list[Diagnostic]:
    """One warning per conflict, naming a pod it hits (and how many identities)."""
    engine = view.engine
    if not _may_conflict(engine):
        return []
    hits: dict[L7Conflict, list[int]] = {}
    for ident in sorted(engine.local):
        for c in l7_conflicts(engine.selector_policy(ident)):
            hits.setdefault(c, []).append(ident)
    pods: dict[int, str] = {}
    for ep in sorted(view.endpoints.values(), key=lambda ep: (ep.namespace, ep.name)):
        pods.setdefault(ep.identity, f"{ep.namespace}/{ep.name}")
    out = []
    for c, idents in hits.items():
        who = [f"pod {pods[i]}" for i in idents if i in pods][:1] or [f"identity {idents[0]}"]
        n = len(idents) - 1
        more = f" (and the pods of {n} more identit{'y' if n == 1 else 'ies'})" if n else ""
        out.append(
            Diagnostic(
                f"{view.name}: {c}, for {who[0]}{more}: {c.consequence}",
                hint="one port carries one L7 protocol: give both policies the same rule type "
                "there, or move one to another port (ref §2.6)",
                severity=Severity.WARNING,
            )
        )
    return out
