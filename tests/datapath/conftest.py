"""A home with the guide's two connected clusters, built once per module."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import EXAMPLES, Cmesh

SEED = EXAMPLES / "seed"


def build_guide_home(home: Path) -> Cmesh:
    c = Cmesh(home, CliRunner())
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
        c(
            "apply",
            "-f",
            str(SEED / "payment.yaml"),
            "-f",
            str(SEED / "workloads.yaml"),
            "--context",
            ctx,
        )
        c("clustermesh", "enable", "--context", ctx, "--service-type", "LoadBalancer")
    c("clustermesh", "connect", "--context", "cluster-1", "--destination-context", "cluster-2")
    return c


@pytest.fixture(scope="module")
def guide_home(tmp_path_factory: pytest.TempPathFactory) -> Cmesh:
    return build_guide_home(tmp_path_factory.mktemp("guide") / "home")
