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
import weakref

from cmesh.datapath import Mesh
from cmesh.policy import FQDNSelector

SYNTHETIC = ipaddress.ip_network("198.19.0.0/16")
# by id(mesh), with a weak reference to tell a reused id apart (Mesh is not hashable)
_DONE: dict[int, tuple[weakref.ref[Mesh], dict[tuple[str, int], str]]] = {}


def example_name(sel: FQDNSelector) -> str:
    """A name the selector matches: ``**.`` and ``*`` become ``x`` labels (ref §1.7)."""
    if sel.match_name:
        return sel.match_name
    pattern = sel.match_pattern
    if pattern.strip("*.") == "":
        return "any.example."
    return pattern.replace("**.", "x.").replace("*", "x")


def fqdn_ends(mesh: Mesh) -> dict[tuple[str, int], str]:
    """Learn an address for every FQDN selector that selects nothing; (cluster, identity) →
    the selector's text, for naming the end.  Idempotent per mesh."""
    hit = _DONE.get(id(mesh))
    if hit is not None and hit[0]() is mesh:
        return hit[1]
    names: dict[tuple[str, int], str] = {}
    n = 0
    for cname in sorted(mesh.views):
        view = mesh.views[cname]
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
        for sel in sels:
            if engine.cache.get(sel):
                continue
            n += 1
            ip = str(SYNTHETIC[n])
            view.learn_fqdn(example_name(sel), [ip])
            ident = engine.world_identity(ip)
            names[(cname, ident)] = sel.match_name.rstrip(".") or sel.match_pattern
    _DONE[id(mesh)] = (weakref.ref(mesh), names)
    return names
