"""``cmesh policy list`` against network-config-analyzer on the same synthetic meshes.

Both tools read the same folder of NetworkPolicy-only manifests (``bench/synth.py`` with
``knp_only``: Namespaces, Deployments, NetworkPolicies; one Deployment per eight pods, a
quarter as many policies as pods) and print every allowed connection between workloads and IP
ranges; each runs as its own process, end to end (parse, plan, resolve, list, print to a file),
timed on the wall clock with its peak resident memory (``getrusage`` of the child).  NCA runs
from its own environment (``bench/.venv-nca``, made on first use with
``pip install network-config-analyzer``), as ``nca --connectivity -r DIR -o txt_no_fw_rules``.

    .venv/bin/python bench/analysis_vs_nca.py                  # 1k, 2k, 4k, 8k pods
    .venv/bin/python bench/analysis_vs_nca.py --sizes 2000 --nca-timeout 1200

Both run with their bytecode cached, as installed Python packages do: pip compiles NCA's at
install time, and cmesh's (an editable install) is written on its first run, which is untimed.
The variable ``PYTHONDONTWRITEBYTECODE`` is removed from both children's environments; with it
set, every cmesh run would compile its own source again (0.2 s at each size), which no user sees.

Targets (issue 8): at 2k pods / 500 policies, 50x faster than NCA; at 8k pods / 2k policies,
under 10 s and under 1 GB.  Benchmarks print; they never assert.
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.synth import SynthParams, generate

ROOT = Path(__file__).resolve().parents[1]
NCA_ENV = ROOT / "bench" / ".venv-nca"
NCA_VERSION = "2.1.0"


@dataclass
class Run:
    seconds: float
    peak_mb: float
    lines: int
    status: str = "ok"

    def cell(self) -> str:
        if self.status != "ok":
            return self.status
        return f"{self.seconds:8.2f} s {self.peak_mb:7.0f} MB"


def ensure_nca() -> Path:
    nca = NCA_ENV / "bin" / "nca"
    if not nca.exists():
        subprocess.run([sys.executable, "-m", "venv", str(NCA_ENV)], check=True)
        subprocess.run(
            [
                str(NCA_ENV / "bin" / "pip"),
                "install",
                "-q",
                f"network-config-analyzer=={NCA_VERSION}",
            ],
            check=True,
        )
    return nca


#: The children's environment: bytecode is cached, as for any installed package.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def measure(argv: list[str], out: Path, timeout: float) -> Run:
    """Run ``argv`` with stdout to ``out``; wall time and the child's peak RSS."""
    t = time.perf_counter()
    with out.open("w") as fh:
        proc = subprocess.Popen(argv, stdout=fh, stderr=subprocess.DEVNULL, cwd=ROOT, env=CHILD_ENV)
        deadline = t + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                return Run(timeout, 0, 0, f"> {timeout:.0f} s (stopped)")
            time.sleep(0.02)
    dt = time.perf_counter() - t
    lines = sum(1 for _ in out.open())
    code = os.waitstatus_to_exitcode(status)
    return Run(dt, usage.ru_maxrss / 1024, lines, "ok" if code == 0 else f"exit {code}")


def stages(d: Path) -> dict[str, float]:
    """Where cmesh's time goes, in process: parse + validate, plan, build the view, list."""
    from cmesh.analysis import connections
    from cmesh.analysis.sources import load_resources, standalone_config
    from cmesh.cli.listfmt import render
    from cmesh.cli.main import GC_THRESHOLD
    from cmesh.cluster import plan_apply
    from cmesh.datapath import Mesh
    from cmesh.model import POLICY_KINDS
    from cmesh.policy import build_view

    gc.set_threshold(*GC_THRESHOLD)  # as the cmesh command runs
    gc.collect()
    out: dict[str, float] = {}
    t = time.perf_counter()
    res = load_resources([str(d)])
    out["parse+validate"] = time.perf_counter() - t
    cfg = standalone_config(res)  # the cluster `policy list --manifests` makes without a home
    t = time.perf_counter()
    plan = plan_apply(cfg, {}, res)
    out["plan_apply"] = time.perf_counter() - t
    t = time.perf_counter()
    typed = {r.key: r for r in res if r.kind in POLICY_KINDS}  # as the command passes them
    mesh = Mesh({cfg.name: build_view(cfg, plan.objects, typed=typed)})
    out["build_view"] = time.perf_counter() - t
    t = time.perf_counter()
    with open(os.devnull, "w") as null:
        render(connections(mesh), "txt", null)
    out["list+print"] = time.perf_counter() - t
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 4000, 8000])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--nca-timeout", type=float, default=900.0, help="seconds before NCA is stopped"
    )
    ap.add_argument("--keep", metavar="DIR", help="write manifests and outputs here")
    args = ap.parse_args(argv)
    nca = ensure_nca()
    work = Path(args.keep or tempfile.mkdtemp(prefix="cmesh-nca-"))
    cmesh = [
        str(ROOT / ".venv" / "bin" / "cmesh"),
        "--home",
        str(work / "no-home"),
        "policy",
        "list",
    ]
    warm = work / "warm-up"
    warm.mkdir(parents=True, exist_ok=True)
    (warm / "manifests.yaml").write_text(
        generate(SynthParams(pods=64, identities=8, policies=16, knp_only=True)).clusters[0].yaml()
    )
    measure([*cmesh, "--manifests", str(warm), "-o", "txt"], warm / "out.txt", 600)  # bytecode
    rows = []
    for n in args.sizes:
        p = SynthParams(pods=n, identities=n // 8, policies=n // 4, knp_only=True, seed=args.seed)
        d = work / f"mesh-{n}"
        d.mkdir(parents=True, exist_ok=True)
        (d / "manifests.yaml").write_text(generate(p).clusters[0].yaml())
        ours = measure([*cmesh, "--manifests", str(d), "-o", "txt"], work / f"cmesh-{n}.txt", 600)
        theirs = measure(
            [str(nca), "--connectivity", "-r", str(d), "-o", "txt_no_fw_rules"],
            work / f"nca-{n}.txt",
            args.nca_timeout,
        )
        ends = p.identities + 2  # workloads (one per identity) + coredns/prometheus
        rows.append((n, p.policies, ends * ends, ours, theirs))
        print(
            f"  {n} pods done: cmesh {ours.cell().strip()}, nca {theirs.cell().strip()}",
            file=sys.stderr,
        )
    print(
        f"cmesh policy list vs network-config-analyzer {NCA_VERSION} (NetworkPolicy meshes, seed {args.seed})"
    )
    print(
        f"{'pods':>6} {'policies':>8} {'workload pairs':>14} | {'cmesh':>19} {'lines':>7} | {'nca':>19} {'lines':>7} | speed-up"
    )
    for n, pol, pairs, ours, theirs in rows:
        speed = (
            f"{theirs.seconds / ours.seconds:6.1f}x"
            if ours.status == "ok" and theirs.status == "ok"
            else (f"> {theirs.seconds / ours.seconds:.0f}x" if ours.status == "ok" else "-")
        )
        print(
            f"{n:>6} {pol:>8} {pairs:>14,} | {ours.cell():>19} {ours.lines:>7} | "
            f"{theirs.cell():>19} {theirs.lines:>7} | {speed}"
        )
    print("cmesh stages (in process, seconds):")
    for n in args.sizes:
        st = stages(work / f"mesh-{n}")
        print(f"{n:>6} pods: " + ", ".join(f"{k} {v:.2f}" for k, v in st.items()))
    print(f"(outputs in {work})")


if __name__ == "__main__":
    main()
