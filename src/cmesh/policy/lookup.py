"""The verdict of one direction of a flow: a probe of the MapState (``pkg/policy/lookup.go``).

Order of decision (ref §2.1, §2.5, §2.6, §2.12, §9):

1. ``enable-policy=never``: everything passes, nothing is enforced.
2. Ingress from the local host passes under ``allow-localhost=auto|always``.
3. A matching deny entry drops with POLICY_DENY (deny wins over any allow).
4. A matching allow entry forwards; if every matching allow carries L7 rules, the flow goes to
   the proxy (REDIRECTED) with the union of those rules; one L7-less allow lifts L7.
5. Otherwise the direction's default deny drops with POLICY_DENIED, or the flow passes.

Audit: with cluster-wide or endpoint audit mode, a drop becomes AUDIT and the flow passes.
Per-policy audit (the guide's ``policy.cilium.io/audit-mode``): the verdict is computed with
and without the audited rules; what only the audited rules would drop is AUDIT, naming them.
Without audited rules in the SelectorPolicy the second computation is skipped.

A decision lists its entries, policies and L7 rules in policy order (reference, then path),
whatever order the map's entries arrived in, so an incrementally updated map and a fresh one
explain a verdict the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cmesh.identity import ReservedIdentity
from cmesh.policy.mapstate import MapEntry, MapState
from cmesh.policy.resolve import SelectorPolicy
from cmesh.policy.rule import L7
from cmesh.policy.types import Direction, DropReason, MatchType, PolicyRef, Protocol, Verdict


@dataclass(frozen=True, slots=True)
class Settings:
    """The agent options that change verdicts (ref §2.1, §2.12)."""

    enforcement: str = "default"  # default | always | never
    audit_mode: bool = False
    allow_localhost: str = "auto"  # auto | always | policy


@dataclass(frozen=True, slots=True)
class Decision:
    """One direction's verdict and everything needed to explain it."""

    direction: Direction
    verdict: Verdict
    drop_reason: DropReason | None = None
    enforced: bool = False
    default_deny: bool = False
    match_type: MatchType = MatchType.NONE
    allowed_by: tuple[PolicyRef, ...] = ()
    denied_by: tuple[PolicyRef, ...] = ()
    audited_by: tuple[PolicyRef, ...] = ()
    default_deny_by: tuple[PolicyRef, ...] = ()
    l7: tuple[L7, ...] | None = None
    l7_audit: tuple[L7, ...] | None = None
    auth: str = ""
    note: str = ""
    entries: tuple[MapEntry, ...] = field(default=(), repr=False)

    @property
    def allowed(self) -> bool:
        return self.verdict is not Verdict.DROPPED

    @property
    def dropped(self) -> bool:
        return self.verdict is Verdict.DROPPED


def _match_type(l3: bool, me: MapEntry) -> MatchType:
    if me.entry.l4_wildcard:
        return MatchType.L3_ONLY if l3 else MatchType.ALL
    if me.lo == 0 and me.hi == 65535:
        return MatchType.L3_PROTO if l3 else MatchType.PROTO_ONLY
    return MatchType.L3_L4 if l3 else MatchType.L4_ONLY


Hit = tuple[bool, MapEntry]  # (from the peer's own key, not the wildcard's; the entry)


def _specificity(hit: Hit) -> tuple[bool, int, bool]:
    l3, me = hit
    return (me.protocol is not Protocol.ANY, me.lo - me.hi, l3)


def _policy_order(hit: Hit) -> tuple[str, str, str, int, str, str, int, int, str, bool]:
    """Entries in policy order (reference, path, port, protocol; peer key first), so what a
    decision lists does not depend on the order the map's entries arrived in."""
    l3, me = hit
    ref, e = me.entry.origin, me.entry
    return (ref.kind, ref.namespace, ref.name, ref.rule, ref.source, e.path, me.lo, me.hi,
            me.protocol.value, not l3)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Outcome:
    verdict: Verdict
    reason: DropReason | None
    match: MatchType
    allowed_by: tuple[PolicyRef, ...]
    denied_by: tuple[PolicyRef, ...]
    l7: tuple[L7, ...] | None
    auth: str
    entries: tuple[MapEntry, ...]


_DENIED = _Outcome(Verdict.DROPPED, DropReason.POLICY_DENIED, MatchType.NONE, (), (), None, "", ())
_PASSED = _Outcome(Verdict.FORWARDED, None, MatchType.NONE, (), (), None, "", ())


def _refs(hits: list[Hit]) -> tuple[PolicyRef, ...]:
    if len(hits) == 1:
        return (hits[0][1].entry.origin,)
    return tuple(sorted({me.entry.origin for _, me in hits}))


def _decide(hits: list[Hit], default_deny: bool) -> _Outcome:
    """The verdict of the entries covering a flow (sorted in policy order, see above)."""
    denies = [h for h in hits if h[1].entry.deny]
    if denies:
        best = max(denies, key=_specificity)
        return _Outcome(
            Verdict.DROPPED,
            DropReason.POLICY_DENY,
            _match_type(*best),
            (),
            _refs(denies),
            None,
            "",
            tuple(me for _, me in denies),
        )
    if hits:  # all allows
        best = max(hits, key=_specificity)
        l7: tuple[L7, ...] | None
        if any(me.entry.l7 is None for _, me in hits):
            l7 = None
        else:
            l7 = tuple(dict.fromkeys(me.entry.l7 for _, me in hits if me.entry.l7 is not None))
        auth = next((me.entry.auth for _, me in hits if me.entry.auth), "")
        return _Outcome(
            Verdict.REDIRECTED if l7 else Verdict.FORWARDED,
            None,
            _match_type(*best),
            _refs(hits),
            (),
            l7,
            auth,
            tuple(me for _, me in hits),
        )
    return _DENIED if default_deny else _PASSED


def early_decision(direction: Direction, peer: int, settings: Settings) -> Decision | None:
    """The verdicts that need no map: enforcement off, and the local host (ref §2.1)."""
    if settings.enforcement == "never":
        return _NEVER[direction]
    if (
        direction is Direction.INGRESS
        and peer == ReservedIdentity.HOST
        and settings.allow_localhost in ("auto", "always")
    ):
        return _LOCALHOST
    return None


_NEVER = {
    d: Decision(d, Verdict.FORWARDED, note="policy enforcement is disabled (enable-policy=never)")
    for d in Direction
}
_LOCALHOST = Decision(
    Direction.INGRESS,
    Verdict.FORWARDED,
    note="traffic from the local host is always allowed (allow-localhost)",
)


def covering(
    keys: dict[tuple[Direction, int], list[MapEntry]],
    direction: Direction,
    peer: int,
    protocol: Protocol,
    port: int,
) -> tuple[tuple[MapEntry, ...], tuple[MapEntry, ...]]:
    """The entries of the peer's key and of the wildcard key that cover protocol/port."""
    own = keys.get((direction, peer))
    wild = keys.get((direction, 0))
    any_ = Protocol.ANY
    return (
        tuple(
            me
            for me in own
            if me.lo <= port <= me.hi and (me.protocol is protocol or me.protocol is any_)
        )
        if own
        else (),
        tuple(
            me
            for me in wild
            if me.lo <= port <= me.hi and (me.protocol is protocol or me.protocol is any_)
        )
        if wild
        else (),
    )


def decide_entries(
    direction: Direction,
    sp: SelectorPolicy,
    own: Sequence[MapEntry],
    wild: Sequence[MapEntry],
    settings: Settings,
    *,
    l3: bool = True,
    endpoint_audit: bool = False,
) -> Decision:
    """The verdict of one direction given the entries that cover the flow: ``own`` from the
    peer's key (``l3``: a real peer, not the wildcard identity), ``wild`` from the wildcard's."""
    always = settings.enforcement == "always"
    dd = always or bool(sp.deny_by_default[direction])
    hits: list[Hit] = [(l3, me) for me in own]
    hits += [(False, me) for me in wild]
    if len(hits) > 1:
        hits.sort(key=_policy_order)
    if sp.has_audit:  # per-policy audit: decide with and without the audited rules
        dd_audit = dd or bool(sp.audit_deny_by_default[direction])
        enforced = _decide([h for h in hits if not h[1].entry.audit], dd)
        full = _decide(hits, dd_audit)
    else:
        dd_audit = dd
        enforced = full = _decide(hits, dd)
    audit_mode = settings.audit_mode or endpoint_audit
    base = dict(
        direction=direction,
        enforced=dd_audit or bool(hits),
        default_deny=dd,
        default_deny_by=sp.deny_by_default[direction],
        auth=enforced.auth,
    )
    if enforced.verdict is Verdict.DROPPED:
        if audit_mode:
            return Decision(
                verdict=Verdict.AUDIT,
                drop_reason=enforced.reason,
                match_type=enforced.match,
                denied_by=enforced.denied_by,
                note="audit mode: this drop is only reported",
                entries=enforced.entries,
                **base,
            )
        return Decision(
            verdict=Verdict.DROPPED,
            drop_reason=enforced.reason,
            match_type=enforced.match,
            denied_by=enforced.denied_by,
            entries=enforced.entries,
            **base,
        )
    if full.verdict is Verdict.DROPPED:
        # Only audited policies would drop this flow (per-policy audit).
        audited = full.denied_by or tuple(sorted(set(sp.audit_deny_by_default[direction])))
        return Decision(
            verdict=Verdict.AUDIT,
            drop_reason=full.reason,
            match_type=enforced.match,
            allowed_by=enforced.allowed_by,
            audited_by=audited,
            l7=enforced.l7,
            entries=enforced.entries,
            note="an audited policy would drop this flow; it is only reported",
            **base,
        )
    l7_audit = full.l7 if full.l7 != enforced.l7 else None
    return Decision(
        verdict=enforced.verdict,
        match_type=enforced.match,
        allowed_by=enforced.allowed_by,
        l7=enforced.l7,
        l7_audit=l7_audit,
        entries=enforced.entries,
        **base,
    )


def lookup(
    direction: Direction,
    sp: SelectorPolicy,
    ms: MapState,
    peer: int,
    protocol: Protocol,
    port: int,
    settings: Settings,
    *,
    endpoint_audit: bool = False,
) -> Decision:
    """Decide one direction for the endpoint whose policy is ``sp``/``ms``.

    :meth:`PolicyEngine.decide` is this lookup with the decision memoised per map by the
    entries that covered the flow (the only thing it depends on besides ``sp`` and settings).
    """
    early = early_decision(direction, peer, settings)
    if early is not None:
        return early
    own, wild = covering(ms.keys, direction, peer, protocol, port)
    return decide_entries(
        direction, sp, own, wild, settings, l3=peer != 0, endpoint_audit=endpoint_audit
    )
