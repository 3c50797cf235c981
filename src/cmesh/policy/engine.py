"""One cluster's policy engine: identities, rules, selector cache and per-identity policy maps.

Everything a verdict needs is kept resolved and updated incrementally (ref §9 for the overall
algorithm; ``pkg/policy`` for the structure):

* identities (local pods, remote pods, reserved, CIDR) live in the :class:`SelectorCache`;
* rules live in the :class:`Repository`; each rule's subject selector is evaluated against
  *local* identities only (a cluster enforces its own policies on its own endpoints, ref §1.14);
* each local identity's SelectorPolicy is distilled once per distinct set of selecting rules
  and shared; its MapState is materialised lazily and dropped when a selector it uses changes;
* a MapState is per endpoint, not per identity: ingress named ports resolve against the
  endpoint's own container ports (ref §1.8), so the maps of an identity are keyed by the named
  ports of its endpoints, and endpoints with equal named ports share one map.

Adding or removing one policy or identity touches only the identities and maps it affects.
"""

from __future__ import annotations

import ipaddress
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from cmesh.identity import MIN_LOCAL_IDENTITY
from cmesh.labels import EndpointSelector, Label, Labels
from cmesh.policy.lookup import Decision, Settings, lookup
from cmesh.policy.mapstate import MapState, materialize
from cmesh.policy.repository import PolicyKey, Repository, cidr_prefixes, peer_selectors
from cmesh.policy.resolve import SelectorPolicy, distill
from cmesh.policy.rule import PolicyRule, Selector
from cmesh.policy.selectorcache import IdentityInfo, SelectorCache
from cmesh.policy.types import Direction, Protocol

NamedPortSpec = tuple[str, str, int]  # (name, protocol, port)
NamedPorts = tuple[NamedPortSpec, ...]  # sorted, without duplicates


def named_ports_key(ports: Iterable[NamedPortSpec]) -> NamedPorts:
    """The canonical form of an endpoint's named ports (the key of its MapState)."""
    return tuple(sorted(set(ports)))


class PolicyEngine:
    def __init__(self, cluster: str, settings: Settings | None = None) -> None:
        self.cluster = cluster
        self.settings = settings or Settings()
        self.cache = SelectorCache()
        self.repo = Repository()
        self.local: set[int] = set()
        self.endpoint_audit: set[int] = set()
        self._named_own: dict[int, NamedPorts] = {}  # local identity -> union of its endpoints'
        self._variants: dict[int, tuple[NamedPorts, ...]] = {}  # ... -> each endpoint's, distinct
        self._named_all: Counter[tuple[str, str, int]] = Counter()
        self._subject_rules: dict[int, frozenset[PolicyRule]] = {}
        self._sp_cache: dict[frozenset[PolicyRule], SelectorPolicy] = {}
        self._ms_cache: dict[int, dict[NamedPorts, MapState]] = {}
        self._sel_subjects: dict[Selector, set[int]] = defaultdict(set)
        self._cidr_refs: Counter[str] = Counter()
        self._cidr_ids: dict[str, int] = {}
        self._cidr_nets: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, int]] = []
        self._fqdn_names: dict[str, set[str]] = {}  # learned address -> names (ref §2.11)

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

        ``named_ports`` are the container ports of the identity's local endpoints; give
        ``endpoint_ports`` (each endpoint's own, one sequence per endpoint) when they differ
        between endpoints: each distinct set gets its own map (ref §1.8).  Without it every
        endpoint is taken to have all of ``named_ports``.
        """
        changed = self.cache.upsert_identity(info)
        variants = (
            tuple(sorted({named_ports_key(p) for p in endpoint_ports}))
            if endpoint_ports is not None
            else ()
        )
        union = named_ports_key([*named_ports, *(p for v in variants for p in v)])
        old_named = self._named_own.get(info.id, ())
        if union != old_named or variants != self._variants.get(info.id, ()):
            self._named_all.subtract(old_named)
            self._named_all.update(union)
            self._named_all += Counter()  # drop zero counts
            self._named_own[info.id] = union
            if variants:
                self._variants[info.id] = variants
            else:
                self._variants.pop(info.id, None)
            self._ms_cache.pop(info.id, None)
            if union != old_named:
                self._invalidate_named()
        if local:
            self.local.add(info.id)
        self._selections_changed(changed)
        if local:
            self._recompute_subject(info.id)

    def remove_identity(self, ident: int) -> None:
        changed = self.cache.remove_identity(ident)
        named = self._named_own.pop(ident, ())
        self._variants.pop(ident, None)
        if named:
            self._named_all.subtract(named)
            self._named_all += Counter()
            self._invalidate_named()
        self.local.discard(ident)
        self._subject_rules.pop(ident, None)
        self._ms_cache.pop(ident, None)
        self._selections_changed(changed)

    def identity(self, ident: int) -> IdentityInfo | None:
        return self.cache.identities.get(ident)

    # -- rules ---------------------------------------------------------------------------
    def set_policy(self, key: PolicyKey, rules: Iterable[PolicyRule]) -> None:
        old, new = self.repo.replace(key, rules)
        changes: dict[int, tuple[set[PolicyRule], set[PolicyRule]]] = defaultdict(
            lambda: (set(), set())
        )
        for r in old:
            for ident in self.subjects(r.subject):
                changes[ident][0].add(r)
            self.cache.remove_selector(r.subject)
            for s in peer_selectors(r):
                self.cache.remove_selector(s)
            for p in cidr_prefixes(r):
                self._cidr_refs[p] -= 1
        for r in new:
            for p in cidr_prefixes(r):
                self._cidr_refs[p] += 1
        self._sync_cidr_identities()
        for r in new:
            self.cache.add_selector(r.subject)
            for ident in self.subjects(r.subject):
                changes[ident][1].add(r)
            for s in peer_selectors(r):
                self.cache.add_selector(s)
        for ident, (removed, added) in changes.items():
            cur = self._subject_rules.get(ident)
            if cur is None:
                self._recompute_subject(ident)
                continue
            self._subject_rules[ident] = (cur - removed) | added
            self._ms_cache.pop(ident, None)

    def remove_policy(self, key: PolicyKey) -> None:
        self.set_policy(key, ())

    def learn_fqdn(self, name: str, ips: Iterable[str]) -> None:
        """The DNS proxy answered ``name`` with ``ips``: those addresses get identities that
        carry the name, so toFQDNs selectors select them (ref §1.7, §2.11)."""
        from cmesh.l7.dns import fqdn

        for ip in ips:
            self._fqdn_names.setdefault(ip, set()).add(fqdn(name))
        self._sync_cidr_identities()

    def forget_fqdn(self, ip: str) -> None:
        """A learned address expired (TTL) or was evicted."""
        if self._fqdn_names.pop(ip, None) is not None:
            self._sync_cidr_identities()

    def _sync_cidr_identities(self) -> None:
        wanted = {p for p, n in self._cidr_refs.items() if n > 0}
        wanted |= {f"{ip}/32" for ip in self._fqdn_names}
        for p in list(self._cidr_ids):
            if p not in wanted:
                self._selections_changed(self.cache.remove_identity(self._cidr_ids.pop(p)))
        used = set(self._cidr_ids.values())
        nxt = MIN_LOCAL_IDENTITY
        for p in sorted(
            wanted - set(self._cidr_ids), key=lambda x: (ipaddress.ip_network(x).prefixlen, x)
        ):
            while nxt in used:
                nxt += 1
            self._cidr_ids[p] = nxt
            used.add(nxt)
            self._upsert_cidr(p, nxt)
        for p, ident in self._cidr_ids.items():
            names = (
                frozenset(self._fqdn_names.get(p[:-3], ())) if p.endswith("/32") else frozenset()
            )
            info = self.cache.identities.get(ident)
            if info is not None and info.fqdns != names:
                self._upsert_cidr(p, ident)
        self._cidr_nets = sorted(
            ((ipaddress.ip_network(p), i) for p, i in self._cidr_ids.items()),
            key=lambda x: -x[0].prefixlen,
        )

    def subjects(self, sel: Selector) -> set[int]:
        """Local identities a rule's subject selector selects (``{}``: every local endpoint)."""
        if isinstance(sel, EndpointSelector) and sel.is_wildcard:
            return set(self.local)
        return set(self.cache.get(sel) & self.local)

    def _upsert_cidr(self, prefix: str, ident: int) -> None:
        names = (
            frozenset(self._fqdn_names.get(prefix[:-3], ()))
            if prefix.endswith("/32")
            else frozenset()
        )
        labels = [Label("cidr", prefix), Label("reserved", "world")]
        labels += [Label("fqdn", n) for n in sorted(names)]
        info = IdentityInfo(ident, Labels(labels), cidr=prefix, fqdns=names)
        self._selections_changed(self.cache.upsert_identity(info))

    def world_identity(self, ip: str) -> int:
        """The identity the ipcache gives an address outside the mesh: its longest CIDR, or world."""
        addr = ipaddress.ip_address(ip)
        for net, ident in self._cidr_nets:
            if addr in net:
                return ident
        return 2

    # -- resolution ----------------------------------------------------------------------
    def _recompute_subject(self, ident: int) -> None:
        info = self.cache.identities.get(ident)
        if info is None:
            return
        rules = frozenset(
            r
            for r in self.repo.rules()
            if r.subject.is_wildcard or ident in self.cache.get(r.subject)
        )
        if self._subject_rules.get(ident) != rules:
            self._subject_rules[ident] = rules
            self._ms_cache.pop(ident, None)

    def _selections_changed(self, changed: set[Selector]) -> None:
        if not changed:
            return
        for sel in changed:
            for subj in self._sel_subjects.pop(sel, set()):
                self._ms_cache.pop(subj, None)

    def _invalidate_named(self) -> None:
        for ident in list(self._ms_cache):
            sp = self.selector_policy(ident)
            if any(e.named for e in sp.entries):
                self._ms_cache.pop(ident, None)

    def endpoint_variants(self, ident: int) -> tuple[NamedPorts, ...]:
        """The distinct named-port sets of a local identity's endpoints: one map each."""
        return self._variants.get(ident) or (self._named_own.get(ident, ()),)

    def selected_rules(self, ident: int) -> frozenset[PolicyRule]:
        if ident not in self._subject_rules and ident in self.local:
            self._recompute_subject(ident)
        return self._subject_rules.get(ident, frozenset())

    def selector_policy(self, ident: int) -> SelectorPolicy:
        rules = self.selected_rules(ident)
        sp = self._sp_cache.get(rules)
        if sp is None:
            sp = distill(rules)
            self._sp_cache[rules] = sp
        return sp

    def map_state(self, ident: int, named_ports: Iterable[NamedPortSpec] | None = None) -> MapState:
        """The policy map of the endpoints of ``ident`` whose named ports are ``named_ports``
        (default: all the identity's named ports, the map of every endpoint when they agree)."""
        own = (
            self._named_own.get(ident, ()) if named_ports is None else named_ports_key(named_ports)
        )
        maps = self._ms_cache.setdefault(ident, {})
        ms = maps.get(own)
        if ms is None:
            sp = self.selector_policy(ident)

            def ingress_named(name: str, proto: Protocol) -> list[int]:
                return [p for n, pr, p in own if n == name and pr == proto.value]

            def egress_named(name: str, proto: Protocol) -> list[int]:
                return [
                    p
                    for (n, pr, p), c in self._named_all.items()
                    if c > 0 and n == name and pr == proto.value
                ]

            ms = materialize(sp, self.cache.get, ingress_named, egress_named)
            maps[own] = ms
            for sel in sp.selectors:
                self._sel_subjects[sel].add(ident)
        return ms

    def resolve_all(self) -> int:
        """Materialise every local identity's policy map; returns the number of map entries."""
        return sum(
            len(self.map_state(i, v)) for i in sorted(self.local) for v in self.endpoint_variants(i)
        )

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
    ) -> Decision:
        """The verdict for local identity ``subject`` talking with ``peer`` in ``direction``.

        ``named_ports`` are the subject endpoint's own container ports (ref §1.8); the default
        is every named port of the identity's endpoints."""
        sp = self.selector_policy(subject)
        ms = self.map_state(subject, named_ports)
        return lookup(
            direction,
            sp,
            ms,
            peer,
            protocol,
            port,
            self.settings,
            endpoint_audit=subject in self.endpoint_audit,
        )
