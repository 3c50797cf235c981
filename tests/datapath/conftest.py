"""A home with the guide's two connected clusters, built once per module."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from tests.conftest import SEED, Cmesh, guide_clusters


@pytest.fixture(scope="module")
def guide_home(tmp_path_factory: pytest.TempPathFactory) -> Cmesh:
    c = Cmesh(tmp_path_factory.mktemp("guide") / "home", CliRunner())
    return guide_clusters(c, SEED / "payment.yaml", SEED / "workloads.yaml")
