"""``cmesh policy list`` against netpol-analyzer's expected connectivity lists (not a test).

For every NetworkPolicy-only scenario of ``../shared/corpora/netpol-analyzer`` (51 cases), the
scenario is loaded into one cluster (``tests/policy/corpus.py``), listed pod by pod with
:func:`cmesh.analysis.connections`, folded into netpol-analyzer's peers (a workload holds what
every pod of it may do; an IP range what every address of it may do, through the CIDR
identities that cover it) and compared with the expected pairs on TCP, UDP and SCTP — for every
ordered pair of peers, listed or not (an unlisted pair has no connection).

Pairs with a host-network pod at one end differ by design: such a pod is its node to Cilium
(ref §1.4), never a workload (docs/netpol-conformance.md); they are counted apart.

    .venv/bin/python bench/analysis_corpus.py [-v]
"""

from __future__ import annotations

import argparse
import ipaddress
import itertools
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.policy.corpus import CFG, cases, load_case, np_only

from cmesh.analysis import Analyzer, PortSet
from cmesh.analysis.connectivity import list_ends
from cmesh.analysis.ends import End
from cmesh.policy import Protocol

L4 = (Protocol.TCP, Protocol.UDP, Protocol.SCTP)


def normal(ps: PortSet) -> tuple:
    """TCP/UDP/SCTP spans within 1-65535 (netpol-analyzer's universe)."""
    out = []
    for p in L4:
        spans = tuple((max(lo, 1), hi) for lo, hi in ps.ports(p) if hi >= 1)
        if spans:
            out.append((p.value, spans))
    return tuple(out)


def expected_conn(conns: dict) -> PortSet:
    if conns.get("all"):
        return PortSet.build((p, 1, 65535) for p in L4)
    return PortSet.build((p, lo, hi) for p in L4 for lo, hi in conns.get(p.value) or ())


def expected_for(case: dict, ranges: dict[str, tuple[int, int]]):
    """Expected connectivity of a pair of peers.  netpol-analyzer prints, per pair, the coarsest
    ranges with one connectivity, so ranges of different pairs overlap: an IP-range peer gets
    what every listed range holding its addresses gets (the corpus README's address rule)."""
    listed: dict[tuple[str, str], PortSet] = {}
    by_end: dict[tuple[int, str], list[tuple[str, PortSet]]] = {}  # (role, workload) -> ranges
    for x in case["expected_pairs"]:
        conn = expected_conn(x["conns"])
        listed[(x["src"], x["dst"])] = conn
        if x["src"] in ranges:
            by_end.setdefault((1, x["dst"]), []).append((x["src"], conn))
        elif x["dst"] in ranges:
            by_end.setdefault((0, x["src"]), []).append((x["dst"], conn))

    def get(src: str, dst: str) -> tuple:
        if src not in ranges and dst not in ranges:
            return normal(listed.get((src, dst), PortSet()))
        rng, role, other = (src, 1, dst) if src in ranges else (dst, 0, src)
        lo, hi = ranges[rng]
        found = [(ranges[r], conn) for r, conn in by_end.get((role, other), ())]
        cuts = sorted({lo, hi + 1} | {x for (a, b), _ in found for x in (a, b + 1) if lo < x <= hi})
        out: PortSet | None = None
        for a, b in itertools.pairwise(cuts):  # every address of the piece [a, b-1]
            piece = PortSet()
            for (c, d), conn in found:
                if c <= a and b - 1 <= d:
                    piece = piece | conn
            out = piece if out is None else out & piece
        return normal(out or PortSet())

    return get


def range_ends(ends: list[End], engine, first: str, last: str) -> list[End]:
    """Our external ends (world, CIDR identities) covering the addresses of [first, last]."""
    lo, hi = ipaddress.ip_address(first), ipaddress.ip_address(last)
    probes = {lo, hi}
    for e in ends:
        if e.kind == "cidr":
            net = ipaddress.ip_network(e.name)
            for a in (net.network_address, net.broadcast_address):
                if lo <= a <= hi:
                    probes.add(a)
            for i in (int(net.network_address) - 1, int(net.broadcast_address) + 1):
                if int(lo) <= i <= int(hi):
                    probes.add(ipaddress.ip_address(i))
    ids = {engine.world_identity(str(a)) for a in probes}
    return [e for e in ends if e.external and e.identity in ids]


def compare_case(case: dict, verbose: bool) -> Counter:
    loaded = load_case(case)
    mesh = loaded.mesh
    engine = mesh.views[CFG.name].engine
    an = Analyzer(mesh)
    ends = list_ends(mesh, pods=True)
    by_ref = {e.pods[0].ref: e for e in ends if e.pods}
    peers: dict[str, list[End]] = {}
    hostnet: set[str] = set()
    for p in case["peers"]:
        if p["kind"] == "workload":
            pods = loaded.pods.get((p["namespace"], p["workload_kind"], p["name"]), [])
            mine = [by_ref[x.endpoint.ref] for x in pods if x.endpoint is not None]
            if len(mine) != len(pods):
                hostnet.add(p["id"])
            peers[p["id"]] = mine
        elif p["kind"] == "ip-range":
            peers[p["id"]] = range_ends(ends, engine, p["first"], p["last"])
    ranges = {
        p["id"]: (int(ipaddress.ip_address(p["first"])), int(ipaddress.ip_address(p["last"])))
        for p in case["peers"]
        if p["kind"] == "ip-range"
    }
    expected = expected_for(case, ranges)
    n: Counter = Counter()
    for a, xs in peers.items():
        for b, ys in peers.items():
            if a == b or (a.endswith("[External]") and b.endswith("[External]")):
                continue
            want = expected(a, b)
            if a in hostnet or b in hostnet:
                n["host-network (by design)"] += 1
                continue
            got: PortSet | None = None
            for x in xs:
                for y in ys:
                    if x is y:
                        continue
                    c = an.pair(x, y).ports
                    got = c if got is None else got & c
            mine = normal(got) if got is not None else ()
            if mine == want:
                n["agree"] += 1
            else:
                n["differ"] += 1
                if verbose:
                    print(f"  {case['case']}: {a} => {b}: expected {want}, cmesh {mine}")
    return n


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-v", "--verbose", action="store_true", help="print every difference")
    args = ap.parse_args(argv)
    total: Counter = Counter()
    t = time.perf_counter()
    scenarios = [c for c in cases() if np_only(c)]
    per_case = []
    for case in scenarios:
        n = compare_case(case, args.verbose)
        per_case.append((case["case"], n))
        total += n
    dt = time.perf_counter() - t
    print(f"netpol-analyzer corpus: {len(scenarios)} NetworkPolicy-only scenarios in {dt:.1f} s")
    pairs = total["agree"] + total["differ"]
    print(f"  peer pairs compared        {pairs:>7,}")
    print(
        f"  agree                      {total['agree']:>7,} ({100 * total['agree'] / max(pairs, 1):.2f} %)"
    )
    print(f"  differ                     {total['differ']:>7,}")
    print(
        f"  host-network pod at an end {total['host-network (by design)']:>7,} (not compared: ref §1.4)"
    )
    for name, n in per_case:
        if n["differ"]:
            print(f"    differs: {name}: {n['differ']}")


if __name__ == "__main__":
    main()
