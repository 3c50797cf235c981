"""Benchmark the policy engine on a synthetic mesh, with the naive oracle as the baseline.

    python bench/policy_engine.py [--pods 20000 --identities 2000 --policies 2000]

Prints, for the first cluster of a :mod:`bench.synth` mesh:

* full resolution: ``build_view`` (identities, policy import, selector cache) plus
  ``engine.resolve_all()`` (distill and materialise every local identity's map): time, peak
  RSS of the process and the RSS growth (``--tracemalloc`` adds the Python-heap peak, slowly);
* one policy added, then removed: ``set_policy``/``remove_policy`` plus materialising the maps
  it invalidated (median and worst of ``--changes`` policies, parse/import timed apart);
* single ``engine.decide`` calls per second over a random mix of flows, and the verdict mix;
* the same lookups through ``tests/policy/oracle.py`` (it has no resolution step: it walks every
  rule per flow), and whether the two agreed on every sampled flow;
* PASS/MISS against the targets: < 5 s full resolution at 20k pods / 2k identities / 2k policies
  on one core, < 100 ms per policy add or remove, >= 200,000 lookups/s.

A benchmark never asserts; it prints figures.  ``--profile N`` prints cProfile's top N functions
of the full resolution (run it apart: profiling slows everything).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import random
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.synth import (
    Flow,
    Objects,
    SynthMesh,
    SynthParams,
    extra_policies,
    generate,
    sample_flows,
)
from tests.policy import oracle

from cmesh.datapath import Mesh
from cmesh.model import POLICY_KINDS, from_stored
from cmesh.policy import (
    ClusterView,
    ImportContext,
    PolicyRule,
    build_view,
    import_resource,
)
from cmesh.policy.view import import_context

T = TypeVar("T")
TARGET_RESOLVE_S, TARGET_CHANGE_MS, TARGET_LOOKUPS = 5.0, 100.0, 200_000


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    """``fn()`` and the seconds it took, garbage collection included.

    The callers run ``gc.collect()`` (untimed) before each timed stage or run of stages: a
    full collection walks the whole heap (~0.3 s at 20k pods, mostly the stored objects and
    the view), and one owed to earlier, untimed work (building the other clusters, parsing,
    sampling flows) would otherwise land at random in whichever stage crossed the threshold.
    Collections a stage's own allocations cause are timed.
    """
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def line(label: str, value: str) -> None:
    print(f"  {label:<44} {value}")


def verdict(ok: bool, what: str) -> None:
    print(f"{'PASS' if ok else 'MISS'}  {what}")


def resolve(mesh: SynthMesh, objs: dict[str, Objects]) -> tuple[ClusterView, dict[str, float]]:
    """The first cluster's view, connected to the others (built untimed first), fully resolved.

    Returns the view and the seconds each stage took.
    """
    first, *rest = mesh.clusters
    others = {c.config.name: build_view(c.config, objs[c.config.name]) for c in rest}
    gc.collect()  # see timed(); from here the stages are timed back to back
    view, t_view = timed(lambda: build_view(first.config, objs[first.config.name]))
    m = Mesh({first.config.name: view, **others})
    _, t_connect = timed(lambda: [m.connect(first.config.name, o) for o in sorted(others)])
    _, t_resolve = timed(view.engine.resolve_all)
    return view, {"build_view": t_view, "connect": t_connect, "resolve_all": t_resolve}


def bench_changes(view: ClusterView, mesh: SynthMesh, n: int) -> None:
    c, engine = mesh.clusters[0], view.engine
    ctx = import_context(c.config, view.inventory)
    parse, add, remove = [], [], []
    gc.collect()  # see timed(): what the steps before left to collect is not theirs
    for raw in extra_policies(c, mesh.params, n):
        (key, rules), dt = timed(lambda raw=raw: _import(raw, ctx))
        parse.append(dt)
        _, dt = timed(
            lambda key=key, rules=rules: (engine.set_policy(key, rules), engine.resolve_all())
        )
        add.append(dt)
        _, dt = timed(lambda key=key: (engine.remove_policy(key), engine.resolve_all()))
        remove.append(dt)
    ms = 1000
    line("parse + import one policy (median)", f"{statistics.median(parse) * ms:.2f} ms")
    line(
        "add one policy + re-materialise (median/max)",
        f"{statistics.median(add) * ms:.1f} / {max(add) * ms:.1f} ms",
    )
    line(
        "remove one policy + re-materialise (median/max)",
        f"{statistics.median(remove) * ms:.1f} / {max(remove) * ms:.1f} ms",
    )
    worst = max(max(add), max(remove)) * ms
    verdict(
        worst < TARGET_CHANGE_MS,
        f"one policy add/remove re-resolved < {TARGET_CHANGE_MS:.0f} ms (worst {worst:.1f} ms over {n})",
    )


def _import(
    raw: dict[str, Any], ctx: ImportContext
) -> tuple[tuple[str, str, str], list[PolicyRule]]:
    res = from_stored(raw)
    return res.key, import_resource(res, ctx)


def bench_lookups(view: ClusterView, objs: Objects, flows: list[Flow], oracle_flows: int) -> None:
    """Engine lookups per second, then the oracle's over ``objs``' policies (imported anew)."""
    engine = view.engine
    decide = engine.decide
    gc.collect()  # see timed()
    decisions, dt = timed(lambda: [decide(*f) for f in flows])
    rate = len(flows) / dt
    dropped = sum(d.dropped for d in decisions)
    line(
        "engine.decide",
        f"{rate:,.0f} lookups/s ({len(flows)} flows, {dropped / len(flows):.0%} dropped)",
    )
    verdict(rate >= TARGET_LOOKUPS, f">= {TARGET_LOOKUPS:,} lookups/s ({rate:,.0f})")
    ctx = import_context(view.cfg, view.inventory)
    rules = [r for k, raw in objs.items() if k[0] in POLICY_KINDS for r in _import(raw, ctx)[1]]
    own: dict[int, set[tuple[str, str, int]]] = {}
    for ep in view.endpoints.values():
        own.setdefault(ep.identity, set()).update(
            (p.name, p.protocol, p.port) for p in ep.pod.ports if p.name
        )
    all_ports = frozenset(p for s in own.values() for p in s)
    sample = flows[:oracle_flows]

    def ask(f: Flow) -> oracle.Answer:
        direction, subject, peer, proto, port = f
        s, p = engine.identity(subject), engine.identity(peer)
        assert s is not None and p is not None
        return oracle.decide(
            rules,
            engine.settings,
            direction,
            s.labels,
            oracle.Peer(peer, p.labels, p.cidr),
            proto,
            port,
            own_ports=frozenset(own.get(subject, ())),
            all_ports=all_ports,
        )

    answers, dt = timed(lambda: [ask(f) for f in sample])
    line(
        "oracle (walks every rule; no resolution step)",
        f"{len(sample) / dt:,.0f} lookups/s ({len(sample)} flows, {len(rules)} rules)",
    )
    agree = sum(
        (d.allowed, d.drop_reason if d.dropped else None) == (a.allowed, a.reason)
        for d, a in zip(decisions, answers, strict=False)
    )
    line("engine and oracle agree", f"{agree}/{len(sample)} sampled flows")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pods", type=int, default=20000)
    ap.add_argument("--identities", type=int, default=2000)
    ap.add_argument("--policies", type=int, default=2000)
    ap.add_argument("--clusters", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--knp-only", action="store_true")
    ap.add_argument(
        "--via-plan", action="store_true", help="objects through load_text + plan_apply"
    )
    ap.add_argument("--flows", type=int, default=50000)
    ap.add_argument("--oracle-flows", type=int, default=2000)
    ap.add_argument("--changes", type=int, default=20)
    ap.add_argument("--tracemalloc", action="store_true")
    ap.add_argument("--profile", type=int, default=0, metavar="N")
    a = ap.parse_args(argv)
    params = SynthParams(
        a.pods, a.identities, a.policies, a.clusters, seed=a.seed, knp_only=a.knp_only
    )
    print(f"policy engine benchmark: {params}")
    mesh, dt = timed(lambda: generate(params))
    line("generate mesh", f"{dt:.2f} s")
    objs, dt = timed(lambda: mesh.objects(via_plan=a.via_plan))
    line(
        "stored objects" + (" (load_text + plan_apply)" if a.via_plan else " (direct)"),
        f"{dt:.2f} s",
    )
    if a.profile:
        prof = cProfile.Profile()
        prof.runcall(resolve, mesh, objs)
        pstats.Stats(prof).sort_stats("tottime").print_stats(a.profile)
        return
    gc.collect()
    before = rss_mb()
    view, t = resolve(mesh, objs)
    eng, total = view.engine, sum(t.values())
    line(
        "cluster",
        f"{len(view.endpoints)} pods, {len(eng.local)} local identities, "
        f"{len(eng.cache.identities)} identities in all, {len(view.policies)} policies, "
        f"{len(eng.repo)} rules",
    )
    line("build_view (identities, import, selector cache)", f"{t['build_view']:.2f} s")
    if len(mesh.clusters) > 1:
        line("Mesh.connect (remote identities)", f"{t['connect']:.2f} s")
    line("resolve_all (distill + materialise maps)", f"{t['resolve_all']:.2f} s")
    line("map entries", f"{sum(len(eng.map_state(i)) for i in eng.local):,}")
    line("full resolution", f"{total:.2f} s")
    line("memory", f"peak RSS {peak_rss_mb():.0f} MB, RSS growth {rss_mb() - before:.0f} MB")
    if a.tracemalloc:
        tracemalloc.start()
        resolve(mesh, objs)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        line("Python heap peak of a second full resolution", f"{peak:.0f} MB")
        tracemalloc.stop()
    full = a.pods >= 20000 and a.identities >= 2000 and a.policies >= 2000
    note = "" if full else ", not at the target size"
    verdict(
        total < TARGET_RESOLVE_S,
        f"full resolution < {TARGET_RESOLVE_S:.0f} s ({total:.2f} s{note})",
    )
    bench_changes(view, mesh, a.changes)
    bench_lookups(
        view,
        objs[mesh.clusters[0].config.name],
        sample_flows(eng, a.flows, random.Random(a.seed)),
        a.oracle_flows,
    )


if __name__ == "__main__":
    main()
