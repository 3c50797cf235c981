"""Homes for the datapath tests, and the commands they run in them.

``guide_home``: the guide's two connected clusters, built once per module.  ``mesh``: the two
clusters with :data:`APP` (a TLS/HTTP service and two client pods) in each, fresh per test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import SEED, Cmesh, guide_clusters


@pytest.fixture(scope="module")
def guide_home(tmp_path_factory: pytest.TempPathFactory) -> Cmesh:
    c = Cmesh(tmp_path_factory.mktemp("guide") / "home", CliRunner())
    return guide_clusters(c, SEED / "payment.yaml", SEED / "workloads.yaml")


APP = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: secure-service, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: secure-service}}
  template:
    metadata: {labels: {app: secure-service}}
    spec:
      containers:
      - name: s
        image: nginx
        ports: [{containerPort: 443, name: https}, {containerPort: 8080, name: http}]
---
apiVersion: v1
kind: Service
metadata: {name: secure-service, namespace: default}
spec:
  selector: {app: secure-service}
  ports: [{name: https, port: 443, targetPort: 443}, {name: http, port: 8080, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: default, labels: {app: client}}
spec: {containers: [{name: c, image: curl}]}
---
apiVersion: v1
kind: Pod
metadata: {name: other, namespace: default, labels: {app: other}}
spec: {containers: [{name: c, image: curl}]}
"""


@pytest.fixture
def mesh(tmp_path: Path) -> Cmesh:
    app = tmp_path / "app.yaml"
    app.write_text(APP)
    return guide_clusters(Cmesh(tmp_path / "home", CliRunner()), app)


def apply(c: Cmesh, tmp: Path, text: str, ctx: str = "cluster-1") -> None:
    f = tmp / f"m{abs(hash(text))}.yaml"
    f.write_text(text)
    c("apply", "-f", str(f), "--context", ctx)


def ex(c: Cmesh, pod: str, *cmd: str, ctx: str = "cluster-1"):
    return c("exec", "--context", ctx, pod, "--", *cmd, ok=False)


def flows(c: Cmesh, ctx: str, *filters: str) -> list[dict]:
    out = c("hubble", "observe", "--context", ctx, "--all", "-o", "json", *filters).stdout
    return [json.loads(line)["flow"] for line in out.splitlines() if line.strip()]
