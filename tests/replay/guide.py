"""The guide's two clusters with traffic recorded by cmesh's own simulated datapath.

``recorded_guide`` builds, once per test module, what ``docs/flows-to-policy.md`` walks through:
cluster-1 and cluster-2 connected, the guide's workloads (``examples/seed/``) in both, a
permissive start with L7 visibility (``examples/flows-to-policy/visibility.yaml``), traffic —
HTTP within a cluster and across clusters, PostgreSQL, DNS, a world destination — and the
flows as ``hubble observe -o json`` prints them.  Then the visibility policy is deleted again:
its L7 wildcard allows would otherwise keep every port it watches open once a generated
policy puts a workload in default deny (allows are additive, ref §2.4).  Tests that change
the home work on a copy.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from tests.conftest import EXAMPLES, Cmesh

SEED = EXAMPLES / "seed"
VISIBILITY = EXAMPLES / "flows-to-policy" / "visibility.yaml"
WORLD_IP = "93.184.216.34"

TRAFFIC: list[tuple[str, str, list[str]]] = [
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


@dataclass
class Guide:
    cmesh: Cmesh
    flows: Path

    def copy(self, dest: Path) -> Guide:
        """A private copy of the home (the store is one SQLite file) with the same flows."""
        shutil.copytree(self.cmesh.home, dest / "home")
        return Guide(Cmesh(dest / "home", CliRunner()), self.flows)

    def exec(self, cluster: str, pod: str, *argv: str) -> int:
        return self.cmesh("exec", "--context", cluster, pod, "--", *argv, ok=False).exit_code

    def observe(self, path: Path) -> Path:
        path.write_text(
            self.cmesh("hubble", "observe", "--all-clusters", "--all", "-o", "json").stdout
        )
        return path


def build(root: Path, *, traffic: bool = True) -> Guide:
    c = Cmesh(root / "home", CliRunner())
    for i in (1, 2):
        ctx = f"cluster-{i}"
        c(
            "install",
            "--context",
            ctx,
            "--cluster-name",
            ctx,
            "--cluster-id",
            str(i),
            "--ipam",
            "kubernetes",
        )
        c("clustermesh", "enable", "--context", ctx)
    c("clustermesh", "connect", "--context", "cluster-1", "--destination-context", "cluster-2")
    for ctx in ("cluster-1", "cluster-2"):
        c(
            "apply",
            "-f",
            str(SEED / "payment.yaml"),
            "-f",
            str(SEED / "workloads.yaml"),
            "-f",
            str(VISIBILITY),
            "--context",
            ctx,
        )
    c("dns", "add", "example.com", WORLD_IP)
    g = Guide(c, root / "flows.json")
    if traffic:
        for cluster, pod, argv in TRAFFIC:
            g.exec(cluster, pod, *argv)
    g.observe(g.flows)
    for ctx in ("cluster-1", "cluster-2"):  # watching is over: back to the permissive start
        c("delete", "-f", str(VISIBILITY), "--context", ctx)
    return g
