"""The main job never rots: `cmesh demo` runs the whole guide and every check passes."""

from __future__ import annotations

import re
import subprocess
import sys


def test_demo_runs_the_guide_to_an_all_green_table(tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "cmesh", "demo", "--home", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = res.stdout
    assert res.returncode == 0, out[-4000:] + res.stderr[-2000:]
    table = out[out.rindex("THE GUIDE SAYS") :]
    rows = [line for line in table.splitlines() if line.startswith(("✅", "❌"))]
    assert len(rows) >= 35 and all(r.startswith("✅") for r in rows)
    m = re.search(r"(\d+)/(\d+) checks behave as real Cilium does", out)
    assert m and m.group(1) == m.group(2)
    # every step shows the command it stands for
    for command in (
        "$ cmesh install --context cluster-1",
        "$ cmesh clustermesh connect",
        "$ cmesh hubble observe --context cluster-1 --verdict DROPPED",
        "$ cmesh get services -o wide",
    ):
        assert command in out
