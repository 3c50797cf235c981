"""ClusterMesh propagation on etcd: from a pod created in one cluster until another cluster's
agent can decide its flows (issue 4, ref §3.5).  Prints p50/p99 for 2, 8 and 16 clusters and the
memory an observing agent spends per remote endpoint.

Usage:  python bench/propagation.py [--clusters 2,8,16] [--trials 40] [--pods 20]

Needs Debian's etcd-server (./scripts/install-test-servers).  The home's state lives in one
etcd; every cluster is enabled and connected to cluster-1; cluster-1's agent runs in a thread
polling every 2 ms.  A trial applies one new pod to a random remote cluster the way
``cmesh apply`` does (the registry transaction, then the cluster's export), and measures the
time until cluster-1's agent has the pod's identity in its ipcache and selector cache.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.etcd import running_etcd

from cmesh.agent import Agent
from cmesh.cluster import ClusterConfig
from cmesh.mesh import MeshManager, connect, enable
from cmesh.model import load_text
from cmesh.registry import ClusterRegistry, Home, install
from cmesh.registry.views import build_local_view


def pods_yaml(prefix: str, n: int) -> str:
    return "".join(
        f"---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {prefix}-{i}, labels: {{app: {prefix}-{i % 5}, tier: t{i % 3}}}}}\n"
        for i in range(n)
    )


def build(home: Home, n: int, pods: int) -> list[ClusterConfig]:
    cfgs = []
    for i in range(1, n + 1):
        pod_cidr, node_cidr = home.new_cluster_defaults(i)
        cfg = ClusterConfig(
            context=f"c{i}", name=f"c{i}", id=i, pod_cidr=pod_cidr, node_cidr=node_cidr
        )
        install(home, cfg)
        res, _ = load_text(pods_yaml(f"w{i}", pods), "bench.yaml")
        ClusterRegistry(home.store, cfg).apply(res)
        cfgs.append(cfg)
    mgr = MeshManager(home)
    cfgs = [enable(mgr, c, "LoadBalancer") for c in cfgs]
    for c in cfgs[1:]:
        connect(mgr, cfgs[0], c, bidirectional=False)
    mgr.close()
    return cfgs


def trial(home: Home, mgr: MeshManager, cfg: ClusterConfig, name: str, observer: Agent) -> float:
    res, _ = load_text(
        f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, labels: {{app: {name}}}}}\n",
        "bench.yaml",
    )
    t0 = time.perf_counter()
    ClusterRegistry(home.store, cfg).apply(res)
    mgr.export(cfg, build_local_view(home.store, cfg))
    deadline = t0 + 10
    while time.perf_counter() < deadline:
        view = observer.view
        if view is not None and any(
            ep.name == name and ep.identity in view.engine.cache.identities
            for ep in list(view.remote_endpoints.values())
        ):
            return time.perf_counter() - t0
        time.sleep(0.0005)
    raise TimeoutError(f"{name} never reached the observer")


def run(n: int, trials: int, pods: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as d, running_etcd(Path(d)) as etcd:
        home = Home.open(Path(d) / "home", etcd.url)
        cfgs = build(home, n, pods)
        observer = Agent(home, cfgs[0].context, log=lambda _m: None)
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        observer.step()
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        remote_eps = len(observer.view.remote_endpoints) if observer.view else 1
        mem = sum(s.size_diff for s in after.compare_to(before, "filename"))
        stop = threading.Event()
        thread = threading.Thread(
            target=lambda: observer.run(interval=0.002, stop=stop.is_set), daemon=True
        )
        thread.start()
        mgr = MeshManager(home)
        rng = random.Random(7)
        times = []
        for t in range(trials):
            cfg = rng.choice(cfgs[1:])
            times.append(trial(home, mgr, cfg, f"new-{t}", observer))
        stop.set()
        thread.join()
        observer.close()
        mgr.close()
        home.close()
    times.sort()
    return {
        "clusters": n,
        "p50_ms": statistics.median(times) * 1000,
        "p99_ms": times[min(len(times) - 1, round(0.99 * (len(times) - 1)))] * 1000,
        "max_ms": times[-1] * 1000,
        "remote_endpoints": remote_eps,
        "bytes_per_remote_endpoint": mem / max(remote_eps, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clusters", default="2,8,16")
    ap.add_argument("--trials", type=int, default=40)
    ap.add_argument("--pods", type=int, default=20)
    a = ap.parse_args()
    print(
        f"{'clusters':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'remote eps':>10} {'B/remote ep':>12}  target p99 < 100 ms"
    )
    for n in (int(x) for x in a.clusters.split(",")):
        r = run(n, a.trials, a.pods)
        verdict = "PASS" if r["p99_ms"] < 100 else "MISS"
        print(
            f"{r['clusters']:>8} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['max_ms']:>8.1f} {r['remote_endpoints']:>10} {r['bytes_per_remote_endpoint']:>12.0f}  {verdict}"
        )


if __name__ == "__main__":
    main()
