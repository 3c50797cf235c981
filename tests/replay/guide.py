"""The guide's two clusters with traffic recorded by cmesh's own simulated datapath.

:func:`build` makes, once per test module (the ``guide`` fixture), what
``docs/flows-to-policy.md`` walks through, with ``bench/guide_home.py`` running the commands in
process: cluster-1 and cluster-2 connected, the guide's workloads (``examples/seed/``) in both,
a permissive start with L7 visibility (``examples/flows-to-policy/visibility.yaml``), the
walkthrough's traffic — HTTP within a cluster and across clusters, PostgreSQL, DNS, a world
destination — and the flows as ``hubble observe -o json`` prints them.  Then the visibility
policy is deleted again: its L7 wildcard allows would otherwise keep every port it watches open
once a generated policy puts a workload in default deny (allows are additive, ref §2.4).  Tests
that change the home work on a copy.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from bench.guide_home import WALKTHROUGH
from bench.guide_home import build as build_home
from click.testing import CliRunner

from tests.conftest import Cmesh

__all__ = ["WALKTHROUGH", "Guide", "build"]


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


def build(root: Path) -> Guide:
    c = Cmesh(root / "home", CliRunner())

    def run(home: Path, *args: str, check: bool = True) -> str:
        assert home == c.home
        return c(*args, ok=check).stdout

    _, flows = build_home(root, traffic=WALKTHROUGH, run=run)
    return Guide(c, flows)
