"""cmesh policy generate against hubble-audit2policy, side by side on the same flow logs.

    python -m venv bench/.venv-a2p && bench/.venv-a2p/bin/pip install hubble-audit2policy
    python bench/compare_audit2policy.py [--workdir DIR] [--big 100000]

hubble-audit2policy (PyPI, bench-only: never a project dependency) turns Hubble flows into
CiliumNetworkPolicies.  Both tools get the same log of the guide's two clusters
(``bench/guide_home.py``: HTTP within and across clusters, PostgreSQL, DNS, a world address,
ping), and, for run time, a synthetic log of ``--big`` flows made from it (``bench/replay.py``).

For each tool the table gives:

* **coverage** — the flows of the log that still pass once the generated policies are
  enforced, replayed with :func:`cmesh.replay.run_replay` against the home plus the generated
  files (hubble-audit2policy's files apply to every cluster: it has no notion of one);
* **cluster awareness** — selectors naming ``io.cilium.k8s.policy.cluster`` (without it a peer
  selector means the local cluster only, ref §1.14, so cross-cluster flows break);
* **L7** — HTTP and DNS rules written;
* **valid** — the output passes cmesh's validation (what ``cmesh apply`` runs);
* **run time** — wall time of the tool's command on the log.

Prints the table; never asserts.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.guide_home import build
from bench.replay import synthesize

from cmesh.errors import CmeshError
from cmesh.registry import Home
from cmesh.replay import run_replay

A2P = Path(__file__).resolve().parent / ".venv-a2p" / "bin" / "hubble-audit2policy"
CMESH = [sys.executable, "-m", "cmesh"]


def timed(cmd: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    t = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True)
    return time.perf_counter() - t, res


def stats(root: Path) -> dict[str, int]:
    out = {"policies": 0, "cluster_selectors": 0, "http_rules": 0, "dns_rules": 0}
    for f in sorted(root.rglob("*.yaml")):
        for doc in yaml.safe_load_all(f.read_text()):
            if not doc:
                continue
            out["policies"] += 1
            text = yaml.safe_dump(doc)
            out["cluster_selectors"] += text.count("io.cilium.k8s.policy.cluster")
            out["http_rules"] += text.count("method:")
            out["dns_rules"] += text.count("matchName:")  # minus the toFQDNs' own:
            out["dns_rules"] -= sum(
                len(e.get("toFQDNs") or ()) for e in ((doc.get("spec") or {}).get("egress") or ())
            )
    return out


def coverage(home: Home, flows: Path, policies: Path) -> tuple[str, str]:
    try:
        run = run_replay(home, flows, policies=policies)
    except CmeshError as exc:
        return "invalid", exc.render().splitlines()[-1][:60]
    t = run.report.totals
    passed_before = t["flows"] - t["recorded_dropped"]
    kept = passed_before - t["breaks_flows"]
    pct = 100.0 * kept / passed_before if passed_before else 100.0
    return f"{pct:.1f}% ({kept}/{passed_before})", f"{t['breaks_connections']} connections break"


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--workdir", default="/tmp/cmesh-bench-compare")
    ap.add_argument("--big", type=int, default=100_000)
    args = ap.parse_args()
    if not A2P.exists():
        raise SystemExit(
            f"{A2P} missing: python -m venv bench/.venv-a2p && "
            "bench/.venv-a2p/bin/pip install hubble-audit2policy"
        )
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    if not (work / "flows.json").exists():
        build(work)
    flows = work / "flows.json"
    big = work / f"synthetic-{args.big}.json"
    if not big.exists():
        lines = [ln for ln in flows.read_bytes().splitlines() if ln.strip()]
        synthesize(lines, args.big, 0.1, big)
    home = Home.open(work / "home")
    version = subprocess.run([str(A2P), "-V"], capture_output=True, text=True).stdout.strip()

    rows: list[tuple[str, dict[str, Any]]] = []
    for tool in ("cmesh policy generate --l7", version or "hubble-audit2policy"):
        out = work / ("gen-cmesh" if tool.startswith("cmesh") else "gen-a2p")
        subprocess.run(["rm", "-rf", str(out)])
        if tool.startswith("cmesh"):
            base = [
                *CMESH,
                "--home",
                str(work / "home"),
                "policy",
                "generate",
                "--all-clusters",
                "--l7",
            ]
            t_small, res = timed([*base, str(flows), "-o", str(out)])
            t_big, _ = timed([*base, str(big), "-o", str(work / "gen-cmesh-big")])
        else:
            t_small, res = timed([str(A2P), str(flows), "--no-enrich", "-o", str(out)])
            t_big, _ = timed([str(A2P), str(big), "--no-enrich", "-o", str(work / "gen-a2p-big")])
        if res.returncode != 0:
            print(f"{tool} failed: {res.stderr[-400:]}")
        cov, breaks = coverage(home, flows, out)
        rows.append(
            (
                tool,
                {
                    "coverage": cov,
                    "breaks": breaks,
                    **stats(out),
                    "t_small": t_small,
                    "t_big": t_big,
                },
            )
        )

    n_small = sum(1 for ln in flows.read_text().splitlines() if ln.strip())
    print(
        f"Same logs: the guide's two clusters, {n_small} recorded flows; {args.big:,} synthetic flows for run time.\n"
    )
    head = ("", *[name for name, _ in rows])
    lines = [
        ("coverage of the observed flows (replayed)", *[r["coverage"] for _, r in rows]),
        ("flows that would break", *[r["breaks"] for _, r in rows]),
        ("policies", *[str(r["policies"]) for _, r in rows]),
        (
            "cluster-aware selectors (io.cilium.k8s.policy.cluster)",
            *[str(r["cluster_selectors"]) for _, r in rows],
        ),
        ("L7 HTTP rules", *[str(r["http_rules"]) for _, r in rows]),
        ("L7 DNS rules", *[str(r["dns_rules"]) for _, r in rows]),
        (f"run time, {n_small} flows", *[f"{r['t_small']:.2f} s" for _, r in rows]),
        (f"run time, {args.big:,} flows", *[f"{r['t_big']:.2f} s" for _, r in rows]),
    ]
    widths = [max(len(str(x[i])) for x in [head, *lines]) for i in range(len(head))]
    for row in [head, *lines]:
        print(" | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
