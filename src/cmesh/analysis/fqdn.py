"""FQDN selectors as ends of the list, before any DNS answer was seen.

A ``toFQDNs`` selector selects the identities of addresses the DNS proxy learned for matching
names (ref §1.7, §2.11); offline nothing was learned, so the selector selects nothing and its
allows would never show.  For the list, each selector that selects no identity gets one address
of 198.19.0.0/16 (RFC 2544: never a real destination) learned for a name it matches — through
the engine's own ``learn_fqdn``, as the DNS proxy would — and the end is named by the selector
(``*.example.com[FQDN]``).  This changes only the analysed copy of the mesh.
"""

from __future__ import annotations

import ipaddress

from cmesh.datapath import Mesh
from cmesh.policy import FQDNSelector

SYNTHETIC = ipaddress.ip_network("198.19.0.0/16")


def example_name(sel: FQDNSelector) -> str:
    """A name the selector matches: ``**.`` and ``*`` become ``x`` labels (ref §1.7)."""
    if sel.match_name:
        return sel.match_name
    pattern = sel.match_pattern
    if pattern.strip("*.") == "":
        return "any.example."
    return pattern.replace("**.", "x.").replace("*", "x")


def _synthetic(cidr: str) -> bool:
    net = ipaddress.ip_network(cidr)
    return net.version == 4 and net.subnet_of(SYNTHETIC)  # type: ignore[arg-type]


def fqdn_ends(mesh: Mesh) -> dict[tuple[str, int], str]:
    """Learn an address for every FQDN selector that selects nothing; (cluster, identity) →
    the text of the selector it was learned for, for naming the end.

    Idempotent: an address is named by the selector whose example name it was learned under,
    read back from the engine, so a second call learns nothing more and names the same ends.
    """
    views = [mesh.views[c] for c in sorted(mesh.views)]
    used = {
        info.cidr
        for v in views
        for info in v.engine.cache.identities.values()
        if info.fqdns and info.cidr and _synthetic(info.cidr)
    }
    n = 0
    names: dict[tuple[str, int], str] = {}
    for view in views:
        engine = view.engine
        sels = sorted(
            {
                p
                for r in engine.repo.rules()
                for e in r.elements
                for p in e.peers or ()
                if isinstance(p, FQDNSelector)
            }
        )
        texts: dict[str, str] = {}  # example name -> the first selector's text
        for sel in sels:
            example = example_name(sel)
            texts.setdefault(_bare(example), sel.match_name.rstrip(".") or sel.match_pattern)
            if not engine.cache.get(sel):
                n += 1
                while f"{SYNTHETIC[n]}/32" in used:
                    n += 1
                view.learn_fqdn(example, [str(SYNTHETIC[n])])
        for ident, info in engine.cache.identities.items():
            if info.fqdns and info.cidr and _synthetic(info.cidr):
                text = next((texts[b] for b in sorted(map(_bare, info.fqdns)) if b in texts), "")
                if text:
                    names[(view.name, ident)] = text
    return names


def _bare(name: str) -> str:
    return name.rstrip(".").lower()
