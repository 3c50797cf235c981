"""The guide's alerts, evaluated by real Prometheus tooling over series scraped from cmesh (ref §5.1, §7.4).

A burst of dropped connections goes through the simulated datapath minute by minute; after
each simulated minute the cluster's exposition is rendered and scraped; the scraped counter
values become promtool's input series.  HighDroppedPackets must fire after the burst and the
guide's second alert, rewritten with the metric that exists, too.  promtool comes from Debian's
prometheus package (./scripts/install-test-servers); without it these tests skip.
"""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from cmesh.datapath.session import simulator
from cmesh.datapath.tracer import find_pod
from cmesh.metrics import count, render
from cmesh.policy import Protocol
from cmesh.registry import Home
from tests.conftest import EXAMPLES, Cmesh

PROMTOOL = shutil.which("promtool")
pytestmark = pytest.mark.skipif(
    PROMTOOL is None,
    reason="promtool not installed (Debian package prometheus; ./scripts/install-test-servers)",
)


def scrape(counters: Counter) -> dict[str, float]:
    text = render(dict(counters), []).decode()
    out: dict[str, float] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            if s.name == "cilium_drop_count_total":
                out[s.labels["reason"] + "|" + s.labels["direction"]] = s.value
    return out


@pytest.fixture
def seeded(two_clusters: Cmesh) -> Cmesh:
    """The seed's workloads in cluster-1, where only cluster-1's own clients are allowed in."""
    two_clusters(
        "apply",
        "-f",
        str(EXAMPLES / "seed" / "workloads.yaml"),
        "-f",
        str(EXAMPLES / "seed" / "policies" / "allow-from-cluster-1.yaml"),
        "--context",
        "cluster-1",
    )
    return two_clusters


def test_high_dropped_packets_fires_after_a_burst(seeded: Cmesh, tmp_path: Path):
    sim = simulator(Home.open(seeded.home))
    src = find_pod(sim.mesh, "cluster-1", "default", "frontend")
    db = find_pod(sim.mesh, "cluster-1", "default", "database-0")
    counters: Counter = Counter()
    samples: list[dict[str, float]] = []
    quiet, burst = 2, 12  # minutes before the burst, minutes of burst
    for minute in range(quiet + burst):
        n = 0 if minute < quiet else 1700  # 1700 connections × 4 SYNs dropped = 6800 drops/min
        for _ in range(n):
            sim.connect(src, db.ip, 5432, Protocol.TCP, timeout=8.0)
        counters.update(count(sim.flows.pop("cluster-1", [])))
        samples.append(scrape(counters))
    key = "Policy denied|INGRESS"
    values = " ".join(str(int(s.get(key, 0))) for s in samples)
    rules = EXAMPLES / "monitoring" / "prometheus-rules.yaml"
    test = {
        "rule_files": [str(rules)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {
                        "series": 'cilium_drop_count_total{reason="Policy denied",direction="INGRESS"}',
                        "values": values,
                    }
                ],
                "alert_rule_test": [
                    {"eval_time": "3m", "alertname": "HighDroppedPackets", "exp_alerts": []},
                    {
                        "eval_time": "13m",
                        "alertname": "HighDroppedPackets",
                        "exp_alerts": [
                            {
                                "exp_labels": {"reason": "Policy denied", "direction": "INGRESS"},
                                "exp_annotations": {
                                    "summary": "High rate of dropped packets detected"
                                },
                            }
                        ],
                    },
                    {
                        "eval_time": "13m",
                        "alertname": "PolicyDenyIncrease",
                        "exp_alerts": [
                            {
                                "exp_labels": {},
                                "exp_annotations": {
                                    "summary": "Increase in policy denied connections"
                                },
                            }
                        ],
                    },
                ],
            }
        ],
    }
    f = tmp_path / "test.yaml"
    f.write_text(yaml.safe_dump(test))
    res = subprocess.run(
        [PROMTOOL, "test", "rules", str(f)], capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 0, res.stdout + res.stderr


def test_exposition_passes_promtool_lint(seeded: Cmesh):
    seeded(
        "exec",
        "--context",
        "cluster-1",
        "default/frontend",
        "--",
        "curl",
        "-s",
        "-m",
        "2",
        "http://database:5432/",
        ok=False,
    )
    text = seeded("metrics", "--context", "cluster-1").stdout
    assert 'cilium_drop_count_total{direction="INGRESS",reason="Policy denied"}' in text
    assert "cilium_policy_l4_denied_total" not in text  # not a real metric (ref §7.4)
    res = subprocess.run(
        [PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30
    )
    assert res.returncode == 0, res.stdout + res.stderr


def test_guides_metric_name_does_not_exist_in_the_rules_ref_7_4():
    doc = yaml.safe_load((EXAMPLES / "monitoring" / "prometheus-rules.yaml").read_text())
    exprs = [r["expr"] for g in doc["groups"] for r in g["rules"]]
    assert all("cilium_policy_l4_denied_total" not in e for e in exprs)
    assert any('cilium_drop_count_total{reason=~"Policy denied.*"}' in e for e in exprs)
    res = subprocess.run(
        [PROMTOOL, "check", "rules", str(EXAMPLES / "monitoring" / "prometheus-rules.yaml")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert res.returncode == 0, res.stdout + res.stderr
