"""Benchmark ``cmesh replay`` on a synthetic 1,000,000-flow log of the guide's two clusters.

    python bench/replay.py [--flows 1000000] [--keys 1000000] [--variety 0.1] [--workdir DIR]

1. Builds the guide's clusters with recorded traffic (``bench/guide_home.py``), or reuses
   ``--workdir`` when it already holds them.
2. Synthesizes ``--flows`` lines of ``hubble observe -o json`` from the recorded ones: each line
   is a recorded flow with a new time, uuid and source port, and a share ``--variety`` of them
   get a random destination port, so the log is repetitive the way real logs are but still has
   many distinct keys.
3. **End to end**: read with orjson and deduplicate, load the mesh, replay, build and render
   the report — flows per second over the whole log (target: >= 100,000/s).
4. **Key evaluation**: ``--keys`` distinct flow keys (the replayed (cluster, direction, subject,
   peer, protocol) triples with random ports) through :class:`cmesh.replay.SideTables` — cold
   (compiling the rows) and warm — keys per second (target: >= 1,000,000/s).
5. The tables' answers on a sample against :meth:`PolicyEngine.decide` (must agree on all).

Prints figures; never asserts.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.guide_home import build

from cmesh.registry import Home
from cmesh.replay import (
    SideTables,
    build_report,
    read_log,
    render_text,
    replay,
    scenario_mesh,
)
from cmesh.replay.tables import DIRECTIONS, ENGINE_PROTOCOLS


def synthesize(templates: list[bytes], n: int, variety: float, out: Path, seed: int = 0) -> None:
    rng = random.Random(seed)
    parsed = [orjson.loads(t) for t in templates]
    base = 1_790_000_000
    with out.open("wb") as fh:
        buf = []
        for i in range(n):
            obj = parsed[i % len(parsed)]
            flow = obj["flow"]
            l4 = flow.get("l4") or {}
            inner = l4.get("TCP") or l4.get("UDP")
            keep = None
            if inner is not None:
                keep = inner.get("destination_port")
                inner["source_port"] = rng.randrange(32768, 60999)
                if rng.random() < variety and not flow.get("is_reply"):
                    inner["destination_port"] = rng.randrange(1024, 65535)
            ts = f"2026-09-{1 + i // 80_000_000:02d}T{(i // 3_600_000) % 24:02d}:{(i // 60_000) % 60:02d}:{(i // 1000) % 60:02d}.{i % 1000:03d}000000Z"
            flow["time"] = obj["time"] = ts
            flow["uuid"] = f"{base + i:x}"
            buf.append(orjson.dumps(obj))
            if inner is not None:
                inner["destination_port"] = keep
            if len(buf) == 10_000:
                fh.write(b"\n".join(buf) + b"\n")
                buf.clear()
        if buf:
            fh.write(b"\n".join(buf) + b"\n")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--flows", type=int, default=1_000_000)
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--variety", type=float, default=0.1)
    ap.add_argument("--workdir", default="/tmp/cmesh-bench-replay")
    args = ap.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    if not (work / "flows.json").exists():
        t = time.perf_counter()
        build(work)
        print(f"built the guide's clusters with traffic: {time.perf_counter() - t:.1f} s")
    templates = [ln for ln in (work / "flows.json").read_bytes().splitlines() if ln.strip()]
    log_path = work / f"synthetic-{args.flows}.json"
    if not log_path.exists():
        t = time.perf_counter()
        synthesize(templates, args.flows, args.variety, log_path)
        print(
            f"synthesized {args.flows:,} flows from {len(templates)} recorded: {time.perf_counter() - t:.1f} s"
        )
    size = log_path.stat().st_size
    home = Home.open(work / "home")

    # -- end to end ------------------------------------------------------------------------
    t0 = time.perf_counter()
    log, stats = read_log(log_path)
    t1 = time.perf_counter()
    mesh, _ = scenario_mesh(home)
    t2 = time.perf_counter()
    result = replay(mesh, log)
    t3 = time.perf_counter()
    text = render_text(build_report(result, log, stats))
    t4 = time.perf_counter()
    total = t4 - t0
    print()
    print(
        f"log: {stats.flows:,} flows, {size / 1e6:,.0f} MB, {len(log.counts):,} distinct keys "
        f"({log.kept:,} replayed, {log.events - log.kept:,} replies/skipped)"
    )
    print(f"  read (orjson) + dedup   {t1 - t0:7.2f} s   {stats.flows / (t1 - t0):>12,.0f} flows/s")
    print(f"  load mesh               {t2 - t1:7.2f} s")
    print(f"  replay ({result.queries:,} verdicts, {result.rows} rows)  {t3 - t2:7.2f} s")
    print(f"  report                  {t4 - t3:7.2f} s")
    print(
        f"END TO END                {total:7.2f} s   {stats.flows / total:>12,.0f} flows/s  "
        f"({'PASS' if stats.flows / total >= 100_000 else 'MISS'} >= 100,000/s)"
    )
    print("  " + text.splitlines()[0])

    # -- key evaluation ---------------------------------------------------------------------
    triples = sorted(
        {
            (s.cluster, s.direction, s.subject, s.peer, r.key[3])
            for r in result.results
            for s in r.sides
            if s.decision is not None
        }
    )
    rng = np.random.default_rng(0)
    pick = rng.integers(0, len(triples), args.keys)
    arr = np.asarray(
        [
            (mesh_index, d, s, p, pr)
            for (mesh_index, d, s, p, pr) in [
                (sorted(mesh.views).index(c), d, s, p, pr) for c, d, s, p, pr in triples
            ]
        ],
        dtype=np.int64,
    )[pick]
    ports = rng.integers(0, 65536, args.keys).astype(np.int64)
    fresh, _ = scenario_mesh(home)
    tables = SideTables(fresh)
    cols = [np.ascontiguousarray(arr[:, i]) for i in range(5)]
    t = time.perf_counter()
    idx = tables.evaluate(*cols, ports)
    cold = time.perf_counter() - t
    t = time.perf_counter()
    idx = tables.evaluate(*cols, ports)
    warm = time.perf_counter() - t
    distinct = len(np.unique(np.stack([*cols, ports]), axis=1)[0])
    print()
    print(
        f"key evaluation: {args.keys:,} keys ({distinct:,} distinct), {len(triples)} "
        f"(cluster, direction, subject, peer, protocol) triples, {tables.rows_compiled} rows"
    )
    print(f"  cold (compiles rows)    {cold:7.3f} s   {args.keys / cold:>12,.0f} keys/s")
    print(
        f"  warm                    {warm:7.3f} s   {args.keys / warm:>12,.0f} keys/s  "
        f"({'PASS' if args.keys / warm >= 1_000_000 else 'MISS'} >= 1,000,000/s)"
    )

    # -- agreement with the engine ------------------------------------------------------------
    names = sorted(fresh.views)
    sample = rng.integers(0, args.keys, 20_000)
    agree = 0
    for i in sample.tolist():
        c, d, s, p, pr = (int(x[i]) for x in cols)
        want = fresh.views[names[c]].engine.decide(
            DIRECTIONS[d], s, p, ENGINE_PROTOCOLS[pr], int(ports[i])
        )
        got = tables.decisions[int(idx[i])]
        agree += (want.verdict, want.drop_reason, want.allowed_by, want.denied_by) == (
            got.verdict,
            got.drop_reason,
            got.allowed_by,
            got.denied_by,
        )
    print(
        f"  agreement with PolicyEngine.decide on {len(sample):,} sampled keys: {agree:,}/{len(sample):,}"
    )


if __name__ == "__main__":
    main()
