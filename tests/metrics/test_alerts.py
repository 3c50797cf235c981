"""Alert rules evaluated over a cluster's flows without a Prometheus server (ref §5.1)."""

from __future__ import annotations

import pytest

from cmesh.hubble import IP, TCP, DropReason, Flow, TrafficDirection, as_drop
from cmesh.metrics.alerts import evaluate

S = 1_000_000_000
EXPR = 'rate(cilium_drop_count_total{reason=~"Policy denied.*"}[1m]) > 0.5'


def drops(*seconds: int) -> list[Flow]:
    base = Flow(IP=IP("10.0.0.1", "10.0.0.2"), l4=TCP(1, 80))
    drop = as_drop(base, DropReason.POLICY_DENIED, TrafficDirection.INGRESS)
    return [drop.with_(time=t * S) for t in seconds]


@pytest.mark.parametrize(
    ("times", "for_seconds", "state"),
    [
        ([], 0, "inactive"),
        (range(500, 600), 0, "firing"),  # 59 drops in the last minute: 0.98/s
        (range(500, 600), 120, "pending"),  # not yet true two minutes before
        ([*range(420, 480), *range(500, 600)], 120, "firing"),  # also true at 480 s
    ],
    ids=["no-drops", "burst", "burst-too-recent-for-for", "burst-held"],
)
def test_rate_alert_states(times, for_seconds, state):
    ev = evaluate("Drops", EXPR, for_seconds, drops(*times), 600 * S)
    assert ev.state == state


def test_an_unsupported_expression_says_which_shapes_are_supported():
    with pytest.raises(ValueError, match=r"unsupported expression 'up > 1': use rate\(M\[D\]\)"):
        evaluate("Odd", "up > 1", 0, [], 0)
