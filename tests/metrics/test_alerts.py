"""Alert rules evaluated over a cluster's flows without a Prometheus server (ref §5.1)."""

from __future__ import annotations

import re

import pytest

from cmesh.hubble import IP, TCP, DropReason, Flow, TrafficDirection, as_drop
from cmesh.metrics.alerts import evaluate, parse_duration

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


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0", 0),
        ("0s", 0),
        ("5m", 300),
        ("1h30m", 5400),
        ("500ms", 0.5),
        ("1s500ms", 1.5),
        ("1d", 86400),
        ("2w", 14 * 86400),
        ("1y", 365 * 86400),
        ("1w2d3h4m5s6ms", 7 * 86400 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5 + 0.006),
    ],
)
def test_durations_read_as_prometheus_reads_them(text: str, seconds: float):
    assert parse_duration(text) == pytest.approx(seconds, abs=1e-9)


@pytest.mark.parametrize(
    "text",
    ["", "5", "5x", "m5", "30m1h", "1.5m", "-5m", "1h 30m", "5M"],
    ids=["empty", "no-unit", "unknown-unit", "unit-first", "out-of-order", "fraction", "sign",
         "space", "upper-case"],
)  # fmt: skip
def test_what_is_no_prometheus_duration_is_refused(text: str):
    """Go's duration grammar (fractions, signs) is not Prometheus's: promtool refuses these."""
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


def test_a_range_is_any_prometheus_duration():
    """``[1m30s]``, ``[90000ms]`` and ``[90s]`` are one window: all 89 drops (at 511 … 599 s,
    evaluated at 600 s); ``[1m]`` holds only the last 59."""
    flows = drops(*range(511, 600))
    at = 600 * S
    for window in ("1m30s", "90000ms", "90s"):
        ev = evaluate("Drops", f"increase(cilium_drop_count_total[{window}]) > 88", 0, flows, at)
        assert (ev.value, ev.state) == (89.0, "firing"), window
    ev = evaluate("Drops", "increase(cilium_drop_count_total[1m]) > 88", 0, flows, at)
    assert (ev.value, ev.state) == (59.0, "inactive")


@pytest.mark.parametrize(
    ("window", "says"),
    [("0s", "a range must be longer than 0"), ("1.5m", "'1.5m' is not a duration")],
)
def test_a_range_promql_refuses_is_refused(window: str, says: str):
    with pytest.raises(ValueError, match=rf"range \[{re.escape(window)}\]: {says}"):
        evaluate("Odd", f"rate(cilium_drop_count_total[{window}]) > 1", 0, [], 0)
