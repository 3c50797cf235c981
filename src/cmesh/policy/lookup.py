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
"""

from __future__ import annotations

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


def _match_type(ident: int, me: MapEntry) -> MatchType:
    l3 = ident != 0
    e = me.entry
    if e.l4_wildcard:
        return MatchType.L3_ONLY if l3 else MatchType.ALL
    if me.lo == 0 and me.hi == 65535:
        return MatchType.L3_PROTO if l3 else MatchType.PROTO_ONLY
    return MatchType.L3_L4 if l3 else MatchType.L4_ONLY


def _specificity(ident: int, me: MapEntry) -> tuple[int, int, int]:
    return (me.protocol is not Protocol.ANY, -(me.hi - me.lo), ident != 0)


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


def _decide(cands: list[tuple[int, MapEntry]], default_deny: bool, include_audit: bool) -> _Outcome:
    cands = [(i, m) for i, m in cands if include_audit or not m.entry.audit]
    denies = [(i, m) for i, m in cands if m.entry.deny]
    if denies:
        best = max(denies, key=lambda im: _specificity(*im))
        refs = tuple(sorted({m.entry.origin for _, m in denies}))
        return _Outcome(
            Verdict.DROPPED,
            DropReason.POLICY_DENY,
            _match_type(*best),
            (),
            refs,
            None,
            "",
            tuple(m for _, m in denies),
        )
    allows = [(i, m) for i, m in cands if not m.entry.deny]
    if allows:
        best = max(allows, key=lambda im: _specificity(*im))
        refs = tuple(sorted({m.entry.origin for _, m in allows}))
        l7: tuple[L7, ...] | None
        if any(m.entry.l7 is None for _, m in allows):
            l7 = None
        else:
            l7 = tuple(dict.fromkeys(m.entry.l7 for _, m in allows if m.entry.l7 is not None))
        auth = next((m.entry.auth for _, m in allows if m.entry.auth), "")
        verdict = Verdict.REDIRECTED if l7 else Verdict.FORWARDED
        return _Outcome(
            verdict, None, _match_type(*best), refs, (), l7, auth, tuple(m for _, m in allows)
        )
    if default_deny:
        return _Outcome(
            Verdict.DROPPED, DropReason.POLICY_DENIED, MatchType.NONE, (), (), None, "", ()
        )
    return _Outcome(Verdict.FORWARDED, None, MatchType.NONE, (), (), None, "", ())


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
    """Decide one direction for the endpoint whose policy is ``sp``/``ms``."""
    if settings.enforcement == "never":
        return Decision(
            direction,
            Verdict.FORWARDED,
            note="policy enforcement is disabled (enable-policy=never)",
        )
    if (
        direction is Direction.INGRESS
        and peer == ReservedIdentity.HOST
        and settings.allow_localhost in ("auto", "always")
    ):
        return Decision(
            direction,
            Verdict.FORWARDED,
            note="traffic from the local host is always allowed (allow-localhost)",
        )
    always = settings.enforcement == "always"
    dd = always or sp.default_deny(direction)
    dd_audit = always or sp.default_deny(direction, include_audit=True)
    cands = ms.candidates(direction, peer, protocol, port)
    enforced = _decide(cands, dd, include_audit=False)
    full = _decide(cands, dd_audit, include_audit=True)
    dd_refs = sp.deny_by_default[direction]
    audit_mode = settings.audit_mode or endpoint_audit
    base = dict(
        direction=direction,
        enforced=dd_audit or bool(cands),
        default_deny=dd,
        default_deny_by=dd_refs,
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
