"""The simulated datapath end to end (issue 5 point 5): flows per second through the whole
pipeline, single and batched, the cost of the Hubble flow store at its bound, and the baseline
— the L3/L4 policy lookup alone — in the same run.

Usage:  python bench/datapath.py [--n 2000] [--batch 500] [--bound 4095]

The mesh is the guide's two connected clusters (``bench/guide_home.py``: the seed's workloads,
L7 visibility on) plus a deny of api -> payment, so the mix has allowed HTTP through the proxy,
cross-cluster load-balancing, DNS through kube-dns, a world destination, and drops (each a
timeout the tool waits out in simulated time).  Each "connection" is a whole tool run (`curl URL` resolves the name,
picks a backend, goes through egress, ingress and L7 and emits every Hubble event).

  baseline        verdict.decide(explain=False): both sides' policy for one pod pair
  pipeline        tools.run() in memory: flows/s and connections/s
  single          one tool run, then its flows written to the flow ring and metrics (one
                  transaction each), as every `cmesh exec` does (process start excluded)
  batched         --batch tool runs, then one write of all their flows
  store @ bound   FlowStore.add into an empty ring and into a full one (evictions), per flow
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.guide_home import REPO, build, cmesh

from cmesh.datapath.peers import Peer, PeerKind
from cmesh.datapath.session import record, simulator
from cmesh.datapath.tools import run
from cmesh.datapath.tracer import find_pod
from cmesh.datapath.verdict import decide
from cmesh.hubble import FlowStore
from cmesh.policy.types import Protocol
from cmesh.registry import Home

MIX: list[tuple[str, str, list[str]]] = [
    ("cluster-1", "default/frontend", ["curl", "-s", "http://payment-service/health"]),
    ("cluster-1", "default/api", ["curl", "-s", "-m", "1", "http://payment-service/health"]),
    ("cluster-2", "default/frontend", ["curl", "-s", "http://payment-service/pay/42"]),
    ("cluster-1", "default/frontend", ["curl", "-s", "http://api:8080/api/v1/orders/1"]),
    ("cluster-1", "default/client", ["curl", "-s", "http://example.com/"]),
    ("cluster-2", "default/api", ["nc", "-z", "-w", "1", "database", "5432"]),
]


DENY = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: deny-api-to-payment, namespace: default}
spec:
  endpointSelector: {matchLabels: {app: payment}}
  ingressDeny:
  - fromEndpoints: [{matchLabels: {app: api}}]
"""


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f}/s" if seconds > 0 else "inf"


def bench_baseline(home: Home, n: int) -> float:
    sim = simulator(home)
    mesh = sim.mesh
    pods = [
        find_pod(mesh, c, "default", p)
        for c, p in itertools.product(("cluster-1", "cluster-2"), ("frontend", "api", "client"))
    ]
    pay = [
        Peer(PeerKind.POD, e.ip, e.cluster, endpoint=e)
        for v in mesh.views.values()
        for e in v.endpoints.values()
        if e.pod.labels.get("app") == "payment"
    ]
    pairs = [(s, d) for s in pods for d in pay]
    for s, d in pairs:  # materialise the maps first: this measures the lookup
        decide(mesh, s, d, Protocol.TCP, 8080, explain=False)
    t0 = time.perf_counter()
    for i in range(n):
        s, d = pairs[i % len(pairs)]
        decide(mesh, s, d, Protocol.TCP, 8080, explain=False)
    dt = time.perf_counter() - t0
    print(f"baseline        policy lookup (both sides)   {rate(n, dt):>12}  ({n} pairs)")
    return n / dt


def bench_pipeline(home: Home, n: int, *, quiet: bool = False) -> tuple[float, Counter[str]]:
    sim = simulator(home)
    srcs = {(c, p): find_pod(sim.mesh, c, *p.split("/")) for c, p, _ in MIX}
    verdicts: Counter[str] = Counter()
    t0 = time.perf_counter()
    for i in range(n):
        c, p, argv = MIX[i % len(MIX)]
        run(sim, srcs[(c, p)], argv)
    dt = time.perf_counter() - t0
    flows = [f for fl in sim.flows.values() for f in fl]
    verdicts.update(f.verdict.name for f in flows)
    if quiet:
        return len(flows) / dt, verdicts
    print(
        f"pipeline        in memory                    {rate(n, dt):>12} connections, "
        f"{rate(len(flows), dt)} flows ({len(flows) / n:.1f} flows per connection)"
    )
    return len(flows) / dt, verdicts


def bench_recorded(home: Home, n: int, batch: int) -> None:
    for label, size in (("single", 1), ("batched", batch)):
        done = nflows = 0
        t_load = 0.0
        t0 = time.perf_counter()
        while done < n:
            t_start = time.perf_counter()
            sim = simulator(home)
            srcs = {(c, p): find_pod(sim.mesh, c, *p.split("/")) for c, p, _ in MIX}
            t_load += time.perf_counter() - t_start
            for i in range(size):
                c, p, argv = MIX[(done + i) % len(MIX)]
                run(sim, srcs[(c, p)], argv)
            nflows += sum(len(f) for f in sim.flows.values())
            record(home.store, sim)
            done += size
            if label == "single" and done >= n // 10:
                break  # per-connection writes are slow; a tenth is enough to measure
        dt = time.perf_counter() - t0
        print(
            f"{label:<15} recorded (sqlite)            {rate(done, dt):>12} connections, "
            f"{rate(nflows, dt)} flows  (incl. loading the mesh, {t_load / dt:.0%} of the time)"
        )


def bench_store(home: Home, bound: int) -> None:
    sim = simulator(home)
    src = find_pod(sim.mesh, "cluster-1", "default", "frontend")
    while sum(len(f) for f in sim.flows.values()) < bound + 500:
        run(sim, src, ["curl", "-s", "http://payment-service/health"])
    flows = [f for fl in sim.flows.values() for f in fl]
    fs = FlowStore(home.store, max_flows=bound)
    cluster = "bench-ring"
    for label, batch in (("empty ring", 1), ("empty ring", 100)):
        cl = f"{cluster}-{batch}"
        t0 = time.perf_counter()
        for i in range(0, 200, batch):
            fs.add(cl, flows[i : i + batch])
        dt = time.perf_counter() - t0
        print(
            f"store {label:<10} batch {batch:>3}                {rate(200, dt):>12} flows "
            f"({dt / 200 * 1e6:.0f} us/flow)"
        )
    for batch in (1, 100):
        cl = f"{cluster}-full-{batch}"
        for i in range(0, bound, 500):
            fs.add(cl, flows[i : min(i + 500, bound)])
        t0 = time.perf_counter()
        for i in range(0, 500, batch):
            fs.add(cl, flows[i : i + batch])
        dt = time.perf_counter() - t0
        kept = fs.status([cl]).num_flows
        print(
            f"store at bound  batch {batch:>3} ({kept} kept)      {rate(500, dt):>12} flows "
            f"({dt / 500 * 1e6:.0f} us/flow, each evicts one)"
        )
    t0 = time.perf_counter()
    got = fs.flows(f"{cluster}-full-100")
    dt = time.perf_counter() - t0
    print(f"store read      full ring ({len(got)} flows)    {dt * 1000:>9.0f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=2000, help="tool runs per measurement")
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--bound", type=int, default=4095, help="flow ring size (Hubble's default)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        home_dir, _ = build(root, traffic=())
        deny = root / "deny-api-to-payment.yaml"
        deny.write_text(DENY)
        vis = REPO / "examples" / "flows-to-policy" / "visibility.yaml"
        for c in ("cluster-1", "cluster-2"):  # the L7 visibility guide_home removes at the end
            cmesh(home_dir, "apply", "-f", str(vis), "-f", str(deny), "--context", c)
        home = Home.open(home_dir)
        try:
            base = bench_baseline(home, args.n * 5)
            flows_s, verdicts = bench_pipeline(home, args.n)
            print(f"                verdicts in the mix: {dict(verdicts)}")
            tracemalloc.start()  # a separate, untimed pass: tracing slows Python down ~4x
            bench_pipeline(home, args.n // 4, quiet=True)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(
                f"                peak Python heap, {args.n // 4} runs with their flows "
                f"in memory: {peak / 2**20:.1f} MiB"
            )
            print(f"                pipeline / baseline: {base / flows_s:.1f}x the cost per flow")
            bench_recorded(home, args.n, args.batch)
            bench_store(home, args.bound)
        finally:
            home.close()


if __name__ == "__main__":
    main()
