"""Replaying recorded flows against current and proposed policies (issue 9, ref §2, §4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cmesh.registry import Home
from cmesh.replay import run_replay

HANDWRITTEN = Path(__file__).parent / "data" / "handwritten.jsonl"

PAYMENT_FROM_API_ONLY = """
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: payment-tight, namespace: default}
spec:
  endpointSelector: {matchLabels: {app: payment}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: api}}]
    toPorts: [{ports: [{port: "8080", protocol: TCP}]}]
"""


def _replay(guide, tmp_path, flows: Path, policies: str | None = None, **kw):
    home = Home.open(guide.cmesh.home)
    d = None
    if policies is not None:
        d = tmp_path / "proposed"
        d.mkdir(exist_ok=True)
        (d / "p.yaml").write_text(policies)
    try:
        return run_replay(home, flows, policies=d, **kw)
    finally:
        home.close()


def test_replay_against_the_current_policies_changes_nothing(guide, tmp_path):
    run = _replay(guide, tmp_path, guide.flows)
    t = run.report.totals
    assert t["flows"] > 20 and t["breaks_flows"] == 0 and t["opens_flows"] == 0
    assert t["now_drop"] == 0


def test_proposed_ingress_policy_breaks_frontend_to_payment_in_both_clusters_ref_2_2(
    guide, tmp_path
):
    run = _replay(guide, tmp_path, guide.flows, PAYMENT_FROM_API_ONLY)
    rep = run.report
    assert rep.breaks > 0
    breaks = [g for g in rep.groups if g.change == "breaks"]
    assert {g.policies for g in breaks} == {("CNP default/payment-tight",)}
    assert all("default deny at ingress" in g.reason for g in breaks)
    examples = [f for g in breaks for f, _ in g.examples]
    # cluster-1's frontend reached payment pods of both clusters through the global service
    assert any(
        f.startswith("cluster-1/default/frontend") and "cluster-2/default/payment" in f
        for f in examples
    )
    assert all("/default/frontend" in f and ":8080/TCP" in f for f in examples)


def test_context_limits_the_replay_to_one_clusters_flows_and_policies(guide, tmp_path):
    both = _replay(guide, tmp_path, guide.flows, PAYMENT_FROM_API_ONLY)
    one = _replay(guide, tmp_path, guide.flows, PAYMENT_FROM_API_ONLY, clusters=["cluster-2"])
    assert 0 < one.report.breaks < both.report.breaks
    for g in one.report.groups:
        assert "cluster cluster-2" in g.reason


def test_dropped_flows_that_a_proposal_allows_are_reported_as_opened(guide, tmp_path):
    """The hand-written drop (api -> payment:9999 at cluster-2's ingress, ref §4.3)."""
    allow = """
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: payment-9999, namespace: default}
spec:
  endpointSelector: {matchLabels: {app: payment}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: api, io.cilium.k8s.policy.cluster: cluster-1}}]
    toPorts: [{ports: [{port: "9999", protocol: TCP}]}]
"""
    run = _replay(guide, tmp_path, HANDWRITTEN, allow)
    opens = [g for g in run.report.groups if g.change == "opens"]
    assert len(opens) == 1 and opens[0].policies == ("CNP default/payment-9999",)
    assert "api-6b7c8d9e0f-qwert" in opens[0].examples[0][0]


def test_unknown_pods_are_decided_by_the_labels_hubble_recorded_ref_4_1(guide, tmp_path):
    """The hand-written flows name pods that do not exist: their recorded identity labels
    select them exactly as the live pods of the same workload (frontend, api, payment)."""
    run = _replay(guide, tmp_path, HANDWRITTEN, PAYMENT_FROM_API_ONLY)
    broken = [r for r in run.result.results if r.broken]
    assert len(broken) == 1
    (r,) = broken
    assert r.src.endpoint is None and r.src.name == "frontend-7d4b9c6f5-abcde"
    assert r.dst.name == "payment-5c2vctgzdc-zzzzz" and r.key[4] == 8080
    assert run.result.synthesized == 0  # existing identities matched by labels


def test_to_fqdns_needs_the_dns_rule_to_learn_names_ref_2_11(guide, tmp_path):
    """A toFQDNs egress works only when the DNS proxy sees the lookups (ref §1.7, §2.11)."""
    fqdn_only = """
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: client-out, namespace: default}
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
  - toFQDNs: [{matchName: example.com}]
    toPorts: [{ports: [{port: "80", protocol: TCP}]}]
  - toEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns}}]
    toPorts: [{ports: [{port: "53", protocol: UDP}]%s}]
"""
    without = _replay(guide, tmp_path, guide.flows, fqdn_only % "")
    with_dns = _replay(
        guide, tmp_path, guide.flows, fqdn_only % ', rules: {dns: [{matchPattern: "*"}]}'
    )

    def world_breaks(run):
        return [r for r in run.result.results if r.broken and r.dst.ip == "93.184.216.34"]

    assert world_breaks(without) and not world_breaks(with_dns)
    assert "example.com" in with_dns.result.learned["cluster-1"]


def test_cli_exit_code_gates_a_rollout(guide, tmp_path):
    d = tmp_path / "p"
    d.mkdir()
    res = guide.cmesh("replay", str(guide.flows), "--all-clusters", ok=False)
    assert res.exit_code == 0 and "Nothing that was forwarded would be dropped" in res.stdout
    (d / "tight.yaml").write_text(PAYMENT_FROM_API_ONLY)
    res = guide.cmesh("replay", str(guide.flows), "--all-clusters", "--policies", str(d), ok=False)
    assert res.exit_code == 1 and "BREAKS" in res.stdout
    res = guide.cmesh(
        "replay", str(guide.flows), "--all-clusters", "--policies", str(d), "-o", "json", ok=False
    )
    data = json.loads(res.stdout)
    assert data["summary"]["breaks_flows"] > 0 and data["changes"][0]["policies"]
    res = guide.cmesh(
        "replay",
        str(guide.flows),
        "--context",
        "cluster-1",
        "--policies",
        str(d),
        "-o",
        "md",
        ok=False,
    )
    assert res.exit_code == 1 and res.stdout.startswith("# Replay")


def test_cluster_subdirectories_apply_to_their_cluster_only(guide, tmp_path):
    d = tmp_path / "p"
    (d / "cluster-2").mkdir(parents=True)
    (d / "cluster-2" / "tight.yaml").write_text(PAYMENT_FROM_API_ONLY)
    res = guide.cmesh(
        "replay", str(guide.flows), "--all-clusters", "--policies", str(d), "-o", "json", ok=False
    )
    groups = json.loads(res.stdout)["changes"]
    assert groups and all("cluster cluster-2" in g["reason"] for g in groups)
    (d / "cluster-9").mkdir()
    res = guide.cmesh("replay", str(guide.flows), "--policies", str(d), ok=False)
    assert res.exit_code == 1 and "not a cluster of this home" in res.stderr


def test_invalid_proposed_policies_are_refused_with_their_location(guide, tmp_path):
    d = tmp_path / "p"
    d.mkdir()
    (d / "bad.yaml").write_text(
        PAYMENT_FROM_API_ONLY.replace("ingress:", "ingress:\n  - fromRequires: [{}]\n", 1)
    )
    res = guide.cmesh("replay", str(guide.flows), "--policies", str(d), ok=False)
    assert res.exit_code == 1 and "bad.yaml" in res.stderr


@pytest.mark.parametrize("audit", ["enforce", "report"])
def test_audited_proposals_are_enforced_unless_asked_ref_2_12(guide, tmp_path, audit):
    audited = PAYMENT_FROM_API_ONLY.replace(
        "metadata: {name: payment-tight, namespace: default}",
        "metadata:\n  name: payment-tight\n  namespace: default\n"
        "  annotations: {policy.cilium.io/audit-mode: 'true'}",
    )
    run = _replay(guide, tmp_path, guide.flows, audited, audit=audit)
    t = run.report.totals
    if audit == "enforce":
        assert t["breaks_flows"] > 0
    else:
        assert t["breaks_flows"] == 0 and t["now_audit"] > 0


def test_flows_of_clusters_the_home_lacks_are_named_in_the_report(guide, tmp_path):
    p = tmp_path / "other.json"
    p.write_text(HANDWRITTEN.read_text().replace('"cluster-2"', '"prod-eu"'))
    run = _replay(guide, tmp_path, p)
    assert any("prod-eu" in n for n in run.report.notes)
