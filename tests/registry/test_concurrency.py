"""Two `cmesh apply` processes at once: both succeed, nothing lost, store intact."""

import subprocess
import sys

from tests.conftest import Cmesh


def test_concurrent_applies_both_land(two_clusters: Cmesh, tmp_path):
    files = []
    for i in range(2):
        f = tmp_path / f"w{i}.yaml"
        f.write_text(
            "".join(
                f"---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: w{i}-{j}}}\n"
                f"spec: {{replicas: 2, template: {{metadata: {{labels: {{app: w{i}-{j}}}}}, spec: {{}}}}}}\n"
                for j in range(15)
            )
        )
        files.append(f)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cmesh",
                "--home",
                str(two_clusters.home),
                "apply",
                "-f",
                str(f),
                "--context",
                "cluster-1",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for f in files
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    pods = two_clusters("get", "pods", "-o", "name", "--context", "cluster-1").output.split()
    assert len(pods) == 60
    ips = two_clusters("get", "pods", "-o", "wide", "--context", "cluster-1").output
    addrs = [line.split()[5] for line in ips.splitlines()[1:]]
    assert len(set(addrs)) == len(addrs)  # no address handed out twice
