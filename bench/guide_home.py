"""The guide's two clusters with recorded traffic, for the flows-to-policy benchmarks.

    python bench/guide_home.py DIR        # builds DIR/home and DIR/flows.json, prints paths

Builds what the guide's walkthrough starts from (``examples/seed/``): cluster-1 and cluster-2,
connected, the payment service and workloads in both, a permissive start with L7 visibility
(``examples/flows-to-policy/visibility.yaml``), then traffic from the simulated datapath —
HTTP within and across clusters, PostgreSQL, DNS, a world destination, ping — and writes every
cluster's ``hubble observe -o json`` to ``flows.json``, then deletes the visibility policy again
(its L7 wildcard allows would otherwise stay, ``docs/flows-to-policy.md``).  Deterministic apart
from timestamps.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CMESH = [sys.executable, "-m", "cmesh"]

#: The traffic of ``examples/flows-to-policy/walkthrough.sh`` (what the guide and the tests replay).
WALKTHROUGH: list[tuple[str, str, list[str]]] = [
    ("cluster-1", "default/frontend", ["curl", "-s", "http://payment-service/health"]),
    ("cluster-1", "default/frontend", ["curl", "-s", "http://api:8080/api/v1/orders/123"]),
    (
        "cluster-1",
        "default/frontend",
        ["curl", "-s", "-X", "POST", "http://api:8080/api/v1/orders/456"],
    ),
    ("cluster-2", "default/frontend", ["curl", "-s", "http://payment-service/health"]),
    ("cluster-1", "default/api", ["nc", "-z", "-w", "3", "database", "5432"]),
    ("cluster-1", "default/client", ["curl", "-s", "http://example.com/"]),
]
#: The benchmarks' traffic: the walkthrough's and more variety (a query string, a path per
#: cluster, PostgreSQL in cluster-2, ICMP to the world).
TRAFFIC: list[tuple[str, str, list[str]]] = [
    *WALKTHROUGH,
    ("cluster-1", "default/frontend", ["curl", "-s", "http://api:8080/api/v1/orders/789?full=1"]),
    ("cluster-2", "default/frontend", ["curl", "-s", "http://payment-service/pay/42"]),
    ("cluster-2", "default/api", ["nc", "-z", "-w", "3", "database", "5432"]),
    ("cluster-1", "default/client", ["ping", "-c", "1", "example.com"]),
]


def cmesh(home: Path, *args: str, check: bool = True) -> str:
    """Run ``cmesh`` against ``home`` in its own process (as a user would); its stdout."""
    res = subprocess.run([*CMESH, "--home", str(home), *args], capture_output=True, text=True)
    if check and res.returncode != 0:
        raise SystemExit(f"cmesh {' '.join(args)} failed: {res.stderr}")
    return res.stdout


#: How :func:`build` runs a command: ``run(home, *args, check=...)`` returns its stdout
#: (:func:`cmesh` here; the tests pass an in-process runner, ``tests/replay/guide.py``).
Runner = Callable[..., str]


def build(
    root: Path, *, traffic: Sequence[tuple[str, str, list[str]]] = TRAFFIC, run: Runner = cmesh
) -> tuple[Path, Path]:
    """The guide's clusters in ``root/home`` and, when there is ``traffic`` (tool runs), their
    flows in ``root/flows.json``; returns both paths."""
    home = root / "home"
    for i in (1, 2):
        run(
            home,
            "install",
            "--context",
            f"cluster-{i}",
            "--cluster-name",
            f"cluster-{i}",
            "--cluster-id",
            str(i),
            "--ipam",
            "kubernetes",
        )
    for c in ("cluster-1", "cluster-2"):
        run(home, "clustermesh", "enable", "--context", c)
    run(
        home,
        "clustermesh",
        "connect",
        "--context",
        "cluster-1",
        "--destination-context",
        "cluster-2",
    )
    seed = REPO / "examples" / "seed"
    vis = REPO / "examples" / "flows-to-policy" / "visibility.yaml"
    for c in ("cluster-1", "cluster-2"):
        run(
            home,
            "apply",
            "-f",
            str(seed / "payment.yaml"),
            "-f",
            str(seed / "workloads.yaml"),
            "-f",
            str(vis),
            "--context",
            c,
        )
    run(home, "dns", "add", "example.com", "93.184.216.34")
    flows = root / "flows.json"
    if traffic:
        for cluster, pod, argv in traffic:
            run(home, "exec", "--context", cluster, pod, "--", *argv, check=False)
        flows.write_text(run(home, "hubble", "observe", "--all-clusters", "--all", "-o", "json"))
    for c in ("cluster-1", "cluster-2"):  # watching is over: back to the permissive start
        run(home, "delete", "-f", str(vis), "--context", c)
    return home, flows


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "guide-flows")
    out.mkdir(parents=True, exist_ok=True)
    home, flows = build(out)
    print(f"home:  {home}\nflows: {flows} ({len(flows.read_text().splitlines())} lines)")
