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

A decision lists its entries (the peer key's, then the wildcard's) and L7 rules in policy order
(reference, then path), and its policies sorted, whatever order the map's entries arrived in,
so an incrementally updated map and a fresh one explain a verdict the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import NamedTuple

from cmesh.identity import ReservedIdentity
from cmesh.policy.mapstate import MapEntry, MapKey, MapState
from cmesh.policy.resolve import SelectorPolicy
from cmesh.policy.rule import L7
from cmesh.policy.types import Direction, DropReason, MatchType, PolicyRef, Protocol, Verdict


@dataclass(frozen=True, slots=True)
class Settings:
    """The agent options that change verdicts (ref §2.1, §2.12)."""

    enforcement: str = "default"  # default | always | never
    audit_mode: bool = False
    allow_localhost: str = "auto"  # auto | always | policy

    def default_deny(self, sp: SelectorPolicy, direction: Direction) -> bool:
        """Whether an endpoint with SelectorPolicy ``sp`` is default-deny in ``direction``.

        ``enable-policy=always`` puts every endpoint there, ``never`` none, and ``default``
        those that a selecting, enforcing rule asks it of (ref §2.1, §2.2); audited rules'
        requests (``sp.audit_deny_by_default``) do not count here (ref §2.12).

        ======== ========================= ============
        mode     a selecting rule asks it  default deny
        ======== ========================= ============
        default  no / yes                  no / yes
        always   no / yes                  yes / yes
        never    no / yes                  no / no
        ======== ========================= ============
        """
        mode = self.enforcement
        return mode == "always" or (mode != "never" and sp.default_deny(direction))


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


# Sort keys as C-level getters (no Python call per element).
_ORDER = attrgetter("order")  # policy order, see MapEntry
_SPEC = attrgetter("spec")


def _best(own: Sequence[MapEntry], wild: Sequence[MapEntry], l3: bool) -> tuple[bool, MapEntry]:
    """The most specific entry (a protocol over any, a narrower range, the peer's key over the
    wildcard's) and whether it is the peer's: it gives the match type."""
    if not wild:
        return l3, max(own, key=_SPEC)
    bw = max(wild, key=_SPEC)
    if not own:
        return False, bw
    bo = max(own, key=_SPEC)
    return (l3, bo) if (bo.spec, l3) >= (bw.spec, False) else (False, bw)


class _Outcome(NamedTuple):
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


def _refs(entries: tuple[MapEntry, ...]) -> tuple[PolicyRef, ...]:
    """The policies of ``entries``, sorted, each once (keyed by ``order``'s reference part:
    plain tuples, hashed and compared in C)."""
    if len(entries) == 1:
        return (entries[0].entry.origin,)
    refs = {me.order[:5]: me.entry.origin for me in entries}
    if len(refs) == 1:
        return tuple(refs.values())
    return tuple(refs[k] for k in sorted(refs))


def _decide(
    own: Sequence[MapEntry], wild: Sequence[MapEntry], l3: bool, default_deny: bool
) -> _Outcome:
    """The verdict of the entries covering a flow: ``own`` from the peer's key, ``wild`` from
    the wildcard's, each in policy order."""
    if not own and not wild:
        return _DENIED if default_deny else _PASSED
    own_d = [me for me in own if me.entry.deny] if own else own
    wild_d = [me for me in wild if me.entry.deny] if wild else wild
    if own_d or wild_d:
        denies = (*own_d, *wild_d)
        return _Outcome(
            Verdict.DROPPED,
            DropReason.POLICY_DENY,
            _match_type(*_best(own_d, wild_d, l3)),
            (),
            _refs(denies),
            None,
            "",
            denies,
        )
    # all allows
    allows = (*own, *wild)
    l7: tuple[L7, ...] | None
    if any(me.entry.l7 is None for me in allows):
        l7 = None
    else:
        l7 = tuple(dict.fromkeys(me.entry.l7 for me in allows if me.entry.l7 is not None))
    auth = next((me.entry.auth for me in allows if me.entry.auth), "")
    return _Outcome(
        Verdict.REDIRECTED if l7 else Verdict.FORWARDED,
        None,
        _match_type(*_best(own, wild, l3)),
        _refs(allows),
        (),
        l7,
        auth,
        allows,
    )


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
    keys: Mapping[MapKey, Sequence[MapEntry]],
    direction: Direction,
    peer: int,
    protocol: Protocol,
    port: int,
) -> tuple[Sequence[MapEntry], Sequence[MapEntry]]:
    """The entries of the peer's key and of the wildcard key that cover protocol/port.

    :meth:`PolicyEngine.decide` inlines these two probes (a call costs ~10% of a lookup)."""
    any_ = Protocol.ANY
    own = keys.get((direction, peer))
    if own:
        own = [
            me
            for me in own
            if me.lo <= port <= me.hi and (me.protocol is protocol or me.protocol is any_)
        ]
    wild = keys.get((direction, 0))
    if wild:
        wild = [
            me
            for me in wild
            if me.lo <= port <= me.hi and (me.protocol is protocol or me.protocol is any_)
        ]
    return own or (), wild or ()


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
    dd = settings.default_deny(sp, direction)
    mine = sorted(own, key=_ORDER) if len(own) > 1 else own
    any_ = sorted(wild, key=_ORDER) if len(wild) > 1 else wild
    if sp.has_audit:  # per-policy audit: decide with and without the audited rules
        dd_audit = dd or bool(sp.audit_deny_by_default[direction])
        enforced = _decide(
            [me for me in mine if not me.entry.audit],
            [me for me in any_ if not me.entry.audit],
            l3,
            dd,
        )
        full = _decide(mine, any_, l3, dd_audit)
    else:
        dd_audit = dd
        enforced = full = _decide(mine, any_, l3, dd)
    audit_mode = settings.audit_mode or endpoint_audit
    enforced_ = dd_audit or bool(mine or any_)
    dd_by = sp.deny_by_default[direction]
    # Decision(direction, verdict, drop_reason, enforced, default_deny, match_type, allowed_by,
    #          denied_by, audited_by, default_deny_by, l7, l7_audit, auth, note, entries)
    if enforced.verdict is Verdict.DROPPED:
        if audit_mode:
            return Decision(
                direction, Verdict.AUDIT, enforced.reason, enforced_, dd, enforced.match, (),
                enforced.denied_by, (), dd_by, None, None, enforced.auth,
                "audit mode: this drop is only reported", enforced.entries,
            )  # fmt: skip
        return Decision(
            direction, Verdict.DROPPED, enforced.reason, enforced_, dd, enforced.match, (),
            enforced.denied_by, (), dd_by, None, None, enforced.auth, "", enforced.entries,
        )  # fmt: skip
    if full.verdict is Verdict.DROPPED:
        # Only audited policies would drop this flow (per-policy audit).
        audited = full.denied_by or tuple(sorted(set(sp.audit_deny_by_default[direction])))
        return Decision(
            direction, Verdict.AUDIT, full.reason, enforced_, dd, enforced.match,
            enforced.allowed_by, (), audited, dd_by, enforced.l7, None, enforced.auth,
            "an audited policy would drop this flow; it is only reported", enforced.entries,
        )  # fmt: skip
    l7_audit = full.l7 if full.l7 != enforced.l7 else None
    return Decision(
        direction, enforced.verdict, None, enforced_, dd, enforced.match, enforced.allowed_by,
        (), (), dd_by, enforced.l7, l7_audit, enforced.auth, "", enforced.entries,
    )  # fmt: skip


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

    :meth:`PolicyEngine.decide` is this lookup with the decision memoised per policy by the
    entries that covered the flow (the only thing it depends on besides ``sp`` and settings).
    """
    early = early_decision(direction, peer, settings)
    if early is not None:
        return early
    own, wild = covering(ms.keys, direction, peer, protocol, port)
    return decide_entries(
        direction, sp, own, wild, settings, l3=peer != 0, endpoint_audit=endpoint_audit
    )
