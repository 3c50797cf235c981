"""`cmesh clustermesh` options as cilium-cli parses them (ref §3.6)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Cmesh


@pytest.fixture
def mesh(two_clusters: Cmesh) -> Cmesh:
    for c in ("cluster-1", "cluster-2"):
        two_clusters("clustermesh", "enable", "--context", c, "--service-type", "LoadBalancer")
    two_clusters(
        "clustermesh", "connect", "--context", "cluster-1", "--destination-context", "cluster-2"
    )
    return two_clusters


@pytest.mark.parametrize("duration", ["0s", "1m30s", "250ms"])
def test_wait_duration_takes_go_durations(mesh: Cmesh, duration: str):
    args = ("clustermesh", "status", "--context", "cluster-1", "--wait", "-o", "json")
    data = json.loads(mesh(*args, "--wait-duration", duration).output)
    assert data["connectivity"]["not_ready"] == 0


@pytest.mark.parametrize("duration", ["bogus", "30", "-5s"])
def test_a_wait_duration_that_is_no_duration_is_an_error_not_a_zero_wait(
    mesh: Cmesh, duration: str
):
    """cilium-cli refuses what Go's time.ParseDuration refuses (a bare number has no unit);
    it never turns it into "do not wait"."""
    r = mesh(
        "clustermesh", "status", "--context", "cluster-1", "--wait", "--wait-duration", duration,
        ok=False,
    )  # fmt: skip
    assert r.exit_code != 0
    assert f"--wait-duration {duration!r} is not a duration" in r.stderr
    assert "30s, 5m or 1h30m" in r.stderr  # what to give instead


def test_enable_defaults_to_nodeport_with_cilium_clis_warning(two_clusters: Cmesh):
    r = two_clusters("clustermesh", "enable", "--context", "cluster-1")
    assert "Service type NodePort detected" in r.stderr
    data = json.loads(
        two_clusters("clustermesh", "status", "--context", "cluster-1", "-o", "json").output
    )
    assert data["access_information"]["service_type"] == "NodePort"
    r = two_clusters(
        "clustermesh", "enable", "--context", "cluster-2", "--service-type", "NodePort"
    )
    assert "Service type NodePort detected" in r.stderr
