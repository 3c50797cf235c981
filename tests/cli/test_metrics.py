"""`cmesh metrics --alerts` and `cmesh agent --metrics-address`: a rule file or address that
cannot be used is an error that says where and what to give instead, never a traceback."""

from __future__ import annotations

import pytest

from tests.conftest import Cmesh, Writer

GOOD_RULE = "- alert: Drops\n  expr: rate(cilium_drop_count_total[5m]) > 100\n"


@pytest.fixture
def c1(cmesh: Cmesh) -> Cmesh:
    cmesh("install", "--context", "c1", "--cluster-name", "c1", "--cluster-id", "1")
    return cmesh


@pytest.mark.parametrize(
    ("text", "says", "hint"),
    [
        ("groups: [", "rules.yaml:2: YAML syntax error", ""),
        (
            "- just a list",
            "expected a Prometheus rule file (a mapping), got a list",
            "give a rule file",
        ),
        ("name: x", "not a Prometheus rule file: no groups", "give a rule file"),
        (
            "groups:\n- name: g\n  rules:\n  - alert: NoExpr\n",
            "rules.yaml:4: groups[0].rules[0]: alert NoExpr: no expr",
            "an alerting rule needs expr:",
        ),
        (
            "groups:\n- name: g\n  rules:\n  - alert: Odd\n    expr: up > 1\n",
            "rules.yaml:5: groups[0].rules[0].expr: alert Odd: unsupported expression",
            "cmesh evaluates rate(M[D]) or increase(M[D])",
        ),
        (
            "groups:\n- name: g\n  rules:\n  - alert: Slow\n    expr: rate(x[5m]) > 1\n    for: 5x\n",
            "rules.yaml:6: groups[0].rules[0].for: alert Slow: '5x' is not a duration",
            "write a Prometheus duration",
        ),
        (
            "groups:\n- name: g\n  rules:\n  - alert: Frac\n    expr: rate(x[1.5m]) > 1\n",
            "(alert Frac: range [1.5m]: '1.5m' is not a duration",
            "D a Prometheus duration",
        ),
        (
            "groups:\n- name: g\n  rules:\n  - alert: L\n    expr:\n    - rate(x[5m]) > 1\n",
            "rules.yaml:5: groups[0].rules[0].expr: expected a string, got a list",
            "give a rule file",
        ),
        ("groups: [just-a-name]", "groups[0]: expected a mapping, got 'just-a-name'", ""),
        ("groups:\n- name: g\n  rules: {alert: x}\n", "groups[0].rules: expected a list", ""),
        (
            "kind: PrometheusRule\nspec:\n  groups:\n  - rules: [3]\n",
            "rules.yaml:4: spec.groups[0].rules[0]: expected a mapping, got 3",
            "",
        ),
    ],
    ids=[
        "not-yaml",
        "not-rules",
        "no-groups",
        "no-expr",
        "unsupported-expr",
        "bad-for",
        "bad-range",
        "expr-type",
        "group-type",
        "rules-type",
        "rule-type",
    ],
)
def test_unusable_rule_files_are_located_errors(
    c1: Cmesh, manifest: Writer, text: str, says: str, hint: str
):
    f = manifest("rules.yaml", text)
    r = c1("metrics", "--context", "c1", "--alerts", str(f), ok=False)
    assert r.exit_code == 1, r.output
    assert str(f) in r.stderr and says.replace("(alert", "alert") in r.stderr, r.stderr
    if hint:
        assert hint in r.stderr.partition("hint: ")[2]


def test_rule_file_and_prometheus_rule_are_both_read(c1: Cmesh, manifest: Writer):
    plain = manifest("plain.yaml", "groups:\n- name: g\n  rules:\n" + _indent(GOOD_RULE, 2))
    crd = manifest(
        "crd.yaml",
        "kind: PrometheusRule\nspec:\n  groups:\n  - name: g\n    rules:\n" + _indent(GOOD_RULE, 4),
    )
    for f in (plain, crd):
        out = c1("metrics", "--context", "c1", "--alerts", str(f)).stdout
        assert out.startswith("Drops: inactive (value 0.000, threshold 100)")


@pytest.mark.parametrize("address", ["localhost:", "127.0.0.1:http", ":70000"])
def test_agent_metrics_address_must_be_host_port(c1: Cmesh, address: str):
    r = c1("agent", "--context", "c1", "--once", "--metrics-address", address, ok=False)
    assert r.exit_code == 1
    assert f"--metrics-address {address!r} is not HOST:PORT" in r.stderr
    assert "127.0.0.1:9962" in r.stderr  # an example of what to give


@pytest.mark.parametrize("interval", ["0", "-1", "nan", "inf"])
def test_agent_interval_must_be_positive_seconds(c1: Cmesh, interval: str):
    """0 or less would spin the agent's loop, nan made ``sleep`` fail mid-run."""
    r = c1("agent", "--context", "c1", "--once", "--interval", interval, ok=False)
    assert r.exit_code == 2
    assert "is not a number of seconds above 0, e.g. 0.2" in r.stderr


def _indent(text: str, n: int) -> str:
    return "".join(" " * n + line + "\n" for line in text.splitlines())
