"""CIDR identities: the prefixes policies name and the addresses the DNS proxy learned.

Cilium gives every prefix a policy selects (``toCIDR``, ``toCIDRSet`` and their ``except``) a
local-scope identity labelled ``cidr:<prefix>`` and ``reserved:world``, and the ipcache gives an
address outside the mesh the identity of its longest such prefix, else ``world`` (ref §1.5).
Addresses learned for a name get an identity of their own host prefix that also carries
``fqdn:<name>`` labels, so ``toFQDNs`` selectors select them (ref §1.7, §2.11).

:class:`CIDRIdentities` only keeps the books — which prefixes are wanted, by how many rules,
which identity each has — and says what to add to or remove from the selector cache; the
engine does that.  Prefixes are parsed once, when they get an identity.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from cmesh.identity import MIN_LOCAL_IDENTITY, ReservedIdentity
from cmesh.labels import Label, Labels
from cmesh.policy.rule import parse_prefix
from cmesh.policy.selectorcache import IdentityInfo


def host_prefix(ip: str) -> str:
    """``1.2.3.4`` → ``1.2.3.4/32``; ``2001:db8::1`` → ``2001:db8::1/128``."""
    return f"{ip}/128" if ":" in ip else f"{ip}/32"


class CIDRIdentities:
    def __init__(self) -> None:
        self.refs: Counter[str] = Counter()  # prefix -> how many registered rules name it
        self.names: dict[str, set[str]] = {}  # learned address -> names (ref §2.11)
        self.ids: dict[str, int] = {}  # prefix -> its identity
        self._dirty = False
        # for lookups: prefix length -> (address bits, network) -> identity, longest first
        self._nets: dict[int, dict[tuple[int, int], int]] = {}
        self._by_len: list[tuple[int, dict[tuple[int, int], int]]] = []
        self._at: dict[str, tuple[int, tuple[int, int]]] = {}  # prefix -> its place in _nets

    def ref(self, prefixes: Iterable[str], delta: int) -> None:
        """``delta`` more (or fewer) rules name ``prefixes``."""
        for p in prefixes:
            n = self.refs[p] + delta
            if n > 0:
                self.refs[p] = n
                self._dirty |= n == delta  # 0 -> delta: newly wanted
            else:
                del self.refs[p]
                self._dirty = True

    def learn(self, name: str, ips: Iterable[str]) -> bool:
        from cmesh.l7.dns import fqdn

        changed = False
        for ip in ips:
            names = self.names.setdefault(ip, set())
            if fqdn(name) not in names:
                names.add(fqdn(name))
                changed = True
        self._dirty |= changed
        return changed

    def forget(self, ip: str) -> bool:
        if self.names.pop(ip, None) is None:
            return False
        self._dirty = True
        return True

    def stale(self) -> list[int]:
        """Identities of prefixes no longer wanted (forgotten here; the caller removes them)."""
        if not self._dirty:
            return []
        wanted = self._wanted()
        gone = [p for p in self.ids if p not in wanted]
        for p in gone:
            length, key = self._at.pop(p)
            nets = self._nets[length]
            del nets[key]
            if not nets:
                del self._nets[length]
        out = [self.ids.pop(p) for p in gone]
        if gone:
            self._index()
        return out

    def fresh(self, identities: Mapping[int, IdentityInfo]) -> list[IdentityInfo]:
        """Identities to add or update: new prefixes (shortest first, so numbers are stable
        for a given set), and prefixes whose learned names changed."""
        if not self._dirty:
            return []
        self._dirty = False
        wanted = self._wanted()
        parsed = {p: parse_prefix(p) for p in wanted if p not in self.ids}
        new = sorted(parsed, key=lambda p: (parsed[p][2], p))
        used = set(self.ids.values())
        nxt = MIN_LOCAL_IDENTITY
        out = []
        for p in new:
            while nxt in used:
                nxt += 1
            self.ids[p] = nxt
            used.add(nxt)
            bits, value, length = parsed[p]
            self._nets.setdefault(length, {})[(bits, value)] = nxt
            self._at[p] = (length, (bits, value))
            out.append(self._info(p, nxt))
        if new:
            self._index()
        added = set(new)
        for p, ident in self.ids.items():
            info = identities.get(ident)
            if p not in added and info is not None and info.fqdns != self._names_of(p):
                out.append(self._info(p, ident))
        return out

    def lookup(self, ip: str) -> int:
        """The identity of the longest prefix containing ``ip``, else ``world``."""
        bits, value, _ = parse_prefix(ip)
        for length, nets in self._by_len:
            if length > bits:
                continue
            ident = nets.get((bits, value >> (bits - length) << (bits - length)))
            if ident is not None:
                return ident
        return int(ReservedIdentity.WORLD)

    def _wanted(self) -> set[str]:
        return set(self.refs) | {host_prefix(ip) for ip in self.names}

    def _names_of(self, prefix: str) -> frozenset[str]:
        addr = prefix.rpartition("/")[0]
        if addr not in self.names or host_prefix(addr) != prefix:
            return frozenset()
        return frozenset(self.names[addr])

    def _info(self, prefix: str, ident: int) -> IdentityInfo:
        names = self._names_of(prefix)
        labels = [Label("cidr", prefix), Label("reserved", "world")]
        labels += [Label("fqdn", n) for n in sorted(names)]
        return IdentityInfo(ident, Labels(labels), cidr=prefix, fqdns=names)

    def _index(self) -> None:
        """Order the per-length tables longest first (they are kept as prefixes come and go)."""
        self._by_len = sorted(self._nets.items(), reverse=True)
