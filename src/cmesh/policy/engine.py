"""One cluster's policy engine: identities, rules, selector cache and per-endpoint policy maps.

Everything a verdict needs is kept resolved and updated incrementally (ref §9 for the overall
algorithm; ``pkg/policy`` for the structure):

* identities (local pods, remote pods, reserved, CIDR) live in the :class:`SelectorCache`,
  which says, for each identity that appears, changes or goes, which selectors gained or lost
  it;
* rules live in the :class:`Repository`; each rule's entries are computed once, when it is
  added (they do not depend on the subject); each rule's subject selector is evaluated against
  *local* identities only (a cluster enforces its own policies on its own endpoints, ref §1.14);
* each local identity's SelectorPolicy is distilled once per distinct set of selecting rules,
  when first needed, and shared;
* each local endpoint's policy map (per identity and the endpoint's named ports, ref §1.8) is
  materialised on first use and then changed in place (:mod:`cmesh.policy.endpointpolicy`).

Adding or removing one policy or identity touches only the identities and maps it affects.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from operator import attrgetter
from typing import Any

from cmesh.identity import ReservedIdentity
from cmesh.labels import EndpointSelector
from cmesh.policy.cidridentity import CIDRIdentities
from cmesh.policy.endpointpolicy import EndpointMaps
from cmesh.policy.lookup import Decision, Settings, decide_entries, early_decision
from cmesh.policy.mapstate import MapState, NamedPorts, NamedPortSpec
from cmesh.policy.repository import PolicyKey, Repository, cidr_prefixes, peer_selectors
from cmesh.policy.resolve import PolicyEntry, SelectorPolicy, derive, distill, rule_entries
from cmesh.policy.rule import PolicyRule, Selector
from cmesh.policy.selectorcache import IdentityInfo, SelectionChanges, SelectorCache
from cmesh.policy.types import Direction, Protocol

__all__ = ["NamedPortSpec", "NamedPorts", "PolicyEngine", "named_ports_key"]

_HOST = int(ReservedIdentity.HOST)
_ANY = Protocol.ANY
_UID = attrgetter("uid")
_NO_RULES: frozenset[PolicyRule] = frozenset()


def named_ports_key(ports: Iterable[NamedPortSpec]) -> NamedPorts:
    """The canonical form of an endpoint's named ports (the key of its MapState)."""
    return tuple(sorted(set(ports)))


class PolicyEngine:
    #: The shape of the engine's state (and of the view values pickled with it, such as
    #: ``Endpoint``): a pickled engine of another format refuses to load (the view cache of
    #: ``cmesh.datapath.load`` then rebuilds it).
    FORMAT = 4

    def __init__(self, cluster: str, settings: Settings | None = None) -> None:
        self.cluster = cluster
        self.cache = SelectorCache()
        self.repo = Repository()
        self.local: set[int] = set()
        self.endpoint_audit: set[int] = set()
        # identity -> its endpoints' named ports; and each endpoint's, when they differ
        self._named_own: dict[int, NamedPorts] = {}
        self._variants: dict[int, tuple[NamedPorts, ...]] = {}
        self._named_all: Counter[NamedPortSpec] = Counter()
        self._rule_entries: dict[PolicyRule, tuple[PolicyEntry, ...]] = {}
        self._by_subject: dict[EndpointSelector, set[PolicyRule]] = {}
        self._subject_rules: dict[int, frozenset[PolicyRule]] = {}
        self._sp_cache: dict[frozenset[PolicyRule], SelectorPolicy] = {}
        self._sp_users: Counter[frozenset[PolicyRule]] = Counter()
        self._maps = EndpointMaps(self.cache.get, self._rule_entries, self._named_all)
        self._cidr = CIDRIdentities()
        self.settings = settings or Settings()

    # -- pickling (the view cache) -------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_format": self.FORMAT}

    def __setstate__(self, state: dict[str, Any]) -> None:
        if state.pop("_format", None) != self.FORMAT:
            raise ValueError("a pickled PolicyEngine of another format: rebuild it")
        self.__dict__.update(state)

    # -- settings ------------------------------------------------------------------------
    @property
    def settings(self) -> Settings:
        return self._settings

    @settings.setter
    def settings(self, value: Settings) -> None:
        self._settings = value
        self._never = value.enforcement == "never"
        self._host_ok = value.allow_localhost in ("auto", "always")
        for sp in self._sp_cache.values():
            sp.memo.clear()
        self._maps.clear_memos()

    # -- identities ----------------------------------------------------------------------
    def upsert_identity(
        self,
        info: IdentityInfo,
        *,
        local: bool = False,
        named_ports: Sequence[NamedPortSpec] = (),
        endpoint_ports: Iterable[Sequence[NamedPortSpec]] | None = None,
    ) -> None:
        """Add or update an identity.

        ``named_ports`` are the container ports of the identity's endpoints (a remote
        identity's: its endpoints in its own cluster, which egress resolves against); give
        ``endpoint_ports`` (each endpoint's own, one sequence per endpoint) when they differ
        between endpoints: each distinct set gets its own map (ref §1.8).  Without it every
        endpoint is taken to have all of ``named_ports``.
        """
        ident = info.id
        known = ident in self.cache.identities
        changes = self.cache.upsert_identity(info)
        self._maps.selections_changed(ident, changes)
        self._set_named_ports(ident, named_ports, endpoint_ports)
        if local and ident not in self.local:
            self.local.add(ident)
            self._set_subject_rules(ident, self._rules_selecting(ident, changes, known))
        elif ident in self.local and changes:
            self._set_subject_rules(ident, self._rules_selecting(ident, changes, True))

    def remove_identity(self, ident: int) -> None:
        self._maps.selections_changed(ident, self.cache.remove_identity(ident))
        self._set_named_ports(ident, (), None)
        self._named_own.pop(ident, None)
        self.local.discard(ident)
        old = self._subject_rules.pop(ident, None)
        if old is not None:
            self._release_policy(old)
        self._maps.forget_identity(ident)

    def identity(self, ident: int) -> IdentityInfo | None:
        return self.cache.identities.get(ident)

    def _set_named_ports(
        self,
        ident: int,
        named_ports: Sequence[NamedPortSpec],
        endpoint_ports: Iterable[Sequence[NamedPortSpec]] | None,
    ) -> None:
        variants = (
            tuple(sorted({named_ports_key(p) for p in endpoint_ports}))
            if endpoint_ports is not None
            else ()
        )
        union = named_ports_key([*named_ports, *(p for v in variants for p in v)])
        old = self._named_own.get(ident, ())
        if union == old and variants == self._variants.get(ident, ()):
            return
        self._named_own[ident] = union
        if len(variants) > 1:
            self._variants[ident] = variants
        else:
            self._variants.pop(ident, None)
        self._maps.drop(ident)  # its own ingress named ports: built again on next use
        # The cluster's named ports (egress resolves against them) change only when no other
        # identity has a port this one gained or lost.
        changed: set[str] = set()
        counts = self._named_all  # identities per port, shared with the maps
        for spec in set(old).difference(union):
            counts[spec] -= 1
            if counts[spec] <= 0:
                del counts[spec]
                changed.add(spec[0])
        for spec in set(union).difference(old):
            counts[spec] += 1
            if counts[spec] == 1:
                changed.add(spec[0])
        if changed:
            self._maps.named_ports_changed(changed)

    def named_ports(self, ident: int) -> NamedPorts:
        """Every named port of ``ident``'s local endpoints (what ingress named ports resolve
        against for an endpoint with all of them, ref §1.8)."""
        return self._named_own.get(ident, ())

    def cluster_named_ports(self) -> Iterable[NamedPortSpec]:
        """Every named port of the endpoints the cluster knows, remote clusters' included
        (what egress named ports resolve against, ref §1.8; Cilium's ipcache named-port map)."""
        return self._named_all.keys()

    def endpoint_variants(self, ident: int) -> tuple[NamedPorts, ...]:
        """The distinct named-port sets of a local identity's endpoints: one map each."""
        return self._variants.get(ident) or (self._named_own.get(ident, ()),)

    # -- rules ---------------------------------------------------------------------------
    def set_policy(self, key: PolicyKey, rules: Iterable[PolicyRule]) -> None:
        """Replace the rules of one policy object, changing only the maps they touch.

        Order matters for the map invariant: new rules' selectors (and CIDR identities) are
        registered first, then each affected identity's maps lose the old rules' entries and
        gain the new ones', then the old rules' selectors (and CIDR identities) go."""
        old, new = self.repo.replace(key, rules)
        old_set, new_set = set(old), set(new)
        removed = [r for r in dict.fromkeys(old) if r not in new_set]
        added = [r for r in dict.fromkeys(new) if r not in old_set]
        for r in added:
            self._register_rule(r)
        if added:
            self._sync_cidr_identities()
        changes: dict[int, tuple[list[PolicyRule], list[PolicyRule]]] = {}
        for r in removed:
            for ident in self.subjects(r.subject):
                changes.setdefault(ident, ([], []))[0].append(r)
        for r in added:
            for ident in self.subjects(r.subject):
                changes.setdefault(ident, ([], []))[1].append(r)
        for ident, (gone, came) in changes.items():
            cur = self._subject_rules.get(ident, _NO_RULES)
            self._set_subject_rules(ident, cur.difference(gone).union(came))
        for r in removed:
            self._unregister_rule(r)
        if removed:
            self._sync_cidr_identities()

    def remove_policy(self, key: PolicyKey) -> None:
        self.set_policy(key, ())

    def _register_rule(self, r: PolicyRule) -> None:
        entries = rule_entries(r)
        self._rule_entries[r] = entries
        self._maps.fix(entries)
        self.cache.add_selector(r.subject)
        self._by_subject.setdefault(r.subject, set()).add(r)
        for s in peer_selectors(r):
            self.cache.add_selector(s)
        self._cidr.ref(cidr_prefixes(r), 1)

    def _unregister_rule(self, r: PolicyRule) -> None:
        self._maps.unfix(self._rule_entries.pop(r))
        self.cache.remove_selector(r.subject)
        rules = self._by_subject[r.subject]
        rules.discard(r)
        if not rules:
            del self._by_subject[r.subject]
        for s in peer_selectors(r):
            if self.cache.remove_selector(s):
                self._maps.forget_selector(s)
        self._cidr.ref(cidr_prefixes(r), -1)

    def subjects(self, sel: Selector) -> set[int]:
        """Local identities a rule's subject selector selects (``{}``: every local endpoint)."""
        if isinstance(sel, EndpointSelector) and sel.is_wildcard:
            return set(self.local)
        return set(self.cache.get(sel) & self.local)

    # -- CIDR and FQDN identities (ref §1.5, §2.11) --------------------------------------
    def learn_fqdn(self, name: str, ips: Iterable[str]) -> None:
        """The DNS proxy answered ``name`` with ``ips``: those addresses get identities that
        carry the name, so toFQDNs selectors select them (ref §1.7, §2.11)."""
        if self._cidr.learn(name, ips):
            self._sync_cidr_identities()

    def forget_fqdn(self, ip: str) -> None:
        """A learned address expired (TTL) or was evicted."""
        if self._cidr.forget(ip):
            self._sync_cidr_identities()

    def _sync_cidr_identities(self) -> None:
        for ident in self._cidr.stale():
            self._maps.selections_changed(ident, self.cache.remove_identity(ident))
            self._maps.forget_identity(ident)
        for info in self._cidr.fresh(self.cache.identities):
            self._maps.selections_changed(info.id, self.cache.upsert_identity(info))

    def world_identity(self, ip: str) -> int:
        """The identity the ipcache gives an address outside the mesh: its longest CIDR, or world."""
        return self._cidr.lookup(ip)

    # -- which rules select an identity --------------------------------------------------
    def _rules_selecting(self, ident: int, changes: SelectionChanges, known: bool) -> frozenset:
        """The rules selecting local identity ``ident``, from the selections that changed for
        it (``known``: it was there before, so start from its current rules)."""
        rules: set[PolicyRule]
        if not known:  # every selector that selects it is in ``changes``
            rules = set(self._by_subject.get(EndpointSelector(), ()))
            for sel, now in changes.items():
                rs = self._by_subject.get(sel)  # type: ignore[call-overload]
                if rs and now:
                    rules |= rs
            return frozenset(rules)
        if ident not in self._subject_rules:
            rules = set(self._by_subject.get(EndpointSelector(), ()))
            sels = self.cache.selections
            for sel, rs in self._by_subject.items():
                if ident in sels.get(sel, ()):
                    rules |= rs
            return frozenset(rules)
        rules = set(self._subject_rules[ident])
        for sel, now in changes.items():
            rs = self._by_subject.get(sel)  # type: ignore[call-overload]
            if rs:
                if now:
                    rules |= rs
                else:
                    rules -= rs
        return frozenset(rules)

    def _set_subject_rules(self, ident: int, rules: frozenset[PolicyRule]) -> None:
        old = self._subject_rules.get(ident)
        if old == rules:
            return
        self._subject_rules[ident] = rules
        self._sp_users[rules] += 1
        if ident in self._maps.maps:
            gone = old - rules if old is not None else _NO_RULES
            came = rules - old if old is not None else rules
            sp = self._sp_cache.get(rules)
            if sp is None:
                before = self._sp_cache.get(old) if old is not None else None
                get = self._rule_entries.__getitem__
                sp = derive(before, gone, came, get) if before else distill(rules, get)
                self._sp_cache[rules] = sp
            self._maps.rules_changed(ident, sp, gone, came)
        if old is not None:
            self._release_policy(old)

    def _release_policy(self, rules: frozenset[PolicyRule]) -> None:
        self._sp_users[rules] -= 1
        if self._sp_users[rules] <= 0:
            del self._sp_users[rules]
            self._sp_cache.pop(rules, None)

    def selected_rules(self, ident: int) -> frozenset[PolicyRule]:
        return self._subject_rules.get(ident, _NO_RULES)

    def imported_entries(self, rule: PolicyRule) -> tuple[PolicyEntry, ...]:
        """The entries of one imported rule (computed once, when it was imported)."""
        return self._rule_entries[rule]

    def selector_policy(self, ident: int) -> SelectorPolicy:
        rules = self._subject_rules.get(ident, _NO_RULES)
        sp = self._sp_cache.get(rules)
        if sp is None:
            sp = distill(rules, self._rule_entries.__getitem__)
            if rules in self._sp_users:  # cached while an identity has exactly these rules
                self._sp_cache[rules] = sp
        return sp

    # -- maps ----------------------------------------------------------------------------
    def map_state(self, ident: int, named_ports: Iterable[NamedPortSpec] | None = None) -> MapState:
        """The policy map of the endpoints of ``ident`` whose named ports are ``named_ports``
        (default: all the identity's named ports, the map of every endpoint when they agree)."""
        own = self._named_own.get(ident, ())
        variant = own if named_ports is None else named_ports_key(named_ports)
        ms = self._maps.get(ident, variant)
        if ms is None:
            ms = self._maps.materialize(ident, variant, self.selector_policy(ident), variant == own)
        return ms

    def resolve_all(self) -> int:
        """Materialise every local endpoint's policy map; returns the number of map entries."""
        total = 0
        maps = self._maps.maps
        for ident in self.local:
            mine = maps.get(ident)
            for variant in self.endpoint_variants(ident):
                ms = mine.get(variant) if mine else None
                if ms is None:
                    ms = self.map_state(ident, variant)
                    mine = maps[ident]
                total += ms.count
        return total

    # -- verdicts ------------------------------------------------------------------------
    def decide(
        self,
        direction: Direction,
        subject: int,
        peer: int,
        protocol: Protocol,
        port: int,
        *,
        named_ports: Iterable[NamedPortSpec] | None = None,
        endpoint_audit: bool = False,
    ) -> Decision:
        """The verdict for local identity ``subject`` talking with ``peer`` in ``direction``.

        ``named_ports`` are the subject endpoint's own container ports (ref §1.8); the default
        is every named port of the identity's endpoints.  ``endpoint_audit`` is the endpoint's
        own ``PolicyAuditMode`` (ref §2.12), which its identity's siblings do not share.

        This is :func:`lookup` with the decision memoised in the map's SelectorPolicy by the
        entries that covered the flow: the decision depends on nothing else but that policy,
        the audit mode and the settings, which clear the memo.
        """
        settings = self._settings
        if self._never or (peer == _HOST and self._host_ok and direction is Direction.INGRESS):
            return early_decision(direction, peer, settings)  # type: ignore[return-value]
        if named_ports is None:
            ms = self._maps.default.get(subject)
        else:
            maps = self._maps.maps.get(subject)
            ms = maps.get(named_ports) if maps and type(named_ports) is tuple else None
        if ms is None:
            ms = self.map_state(subject, named_ports)
        keys = ms.keys
        # lookup.covering, inlined: the call would cost ~10% of a lookup
        own = keys.get((direction, peer))
        if own:
            own = [
                me
                for me in own
                if me.lo <= port <= me.hi and (me.protocol is protocol or me.protocol is _ANY)
            ]
        wild = keys.get((direction, 0))
        if wild:
            wild = [
                me
                for me in wild
                if me.lo <= port <= me.hi and (me.protocol is protocol or me.protocol is _ANY)
            ]
        audit = endpoint_audit or subject in self.endpoint_audit
        # Keyed by the covering entries' uids; only ints and bools, so the key is one object
        # the garbage collector stops tracking (a full collection walks the whole heap).
        key = (
            direction is Direction.INGRESS,
            peer != 0,
            audit,
            tuple(map(_UID, own)) if own else (),
            tuple(map(_UID, wild)) if wild else (),
        )
        sp = ms.sp
        assert sp is not None
        d = sp.memo.get(key)
        if d is None:
            d = decide_entries(
                direction, sp, own or (), wild or (), settings, l3=peer != 0, endpoint_audit=audit
            )
            sp.memo[key] = d
        return d  # type: ignore[no-any-return]
