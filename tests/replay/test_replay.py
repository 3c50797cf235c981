"""Replaying recorded flows against current and proposed policies (issue 9, ref §2, §4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cmesh.registry import Home
from cmesh.replay import run_replay
from tests.conftest import pods_yaml

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


LOGGED_TOKEN = (
    pods_yaml("a", "b")
    + """\
apiVersion: v1
kind: Secret
metadata: {name: tok, namespace: default}
stringData: {value: s3cret}
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: b-in, namespace: default}
spec:
  endpointSelector: {matchLabels: {app: b}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: a}}]
    toPorts:
    - ports: [{port: "80", protocol: TCP}]
      rules:
        http:
        - headerMatches:
          - {name: X-Token, secret: {namespace: default, name: tok}, mismatch: LOG}
"""
)


def test_l7_replay_reads_header_secrets_as_the_proxy_does_ref_2_7(tmp_path):
    """A ``headerMatches`` entry with ``mismatch: LOG`` allows the request and logs the
    mismatch (ref §2.7); only a *missing* secret makes the rule never match.  The Secret
    exists, so the recorded request (Hubble records no headers) still passes."""
    from cmesh.analysis.sources import load
    from cmesh.datapath import Peer, PeerKind
    from cmesh.datapath.l7trace import L7Query, evaluate
    from cmesh.policy import Protocol
    from cmesh.replay import FlowLog, replay

    (tmp_path / "m.yaml").write_text(LOGGED_TOKEN)
    mesh = load(str(tmp_path), None).mesh
    a, b = (mesh.views["default"].endpoints[("default", n)] for n in ("a", "b"))

    def end(ep):
        return {"cluster_name": "default", "namespace": "default", "pod_name": ep.name}

    log = FlowLog()
    log.add(
        {
            "verdict": "FORWARDED",
            "IP": {"source": a.ip, "destination": b.ip},
            "l4": {"TCP": {"source_port": 40000, "destination_port": 80}},
            "source": end(a),
            "destination": end(b),
            "l7": {"type": "REQUEST", "http": {"method": "GET", "url": f"http://{b.ip}/"}},
            "traffic_direction": "INGRESS",
        },
        "default/default-worker",
    )
    (r,) = replay(mesh, log).results
    ingress = next(s for s in r.sides if s.direction == 2)
    assert ingress.decision is not None and ingress.decision.l7 is not None  # through the proxy
    assert not ingress.l7_denied and not r.broken
    # the simulated datapath's proxy lets the same request through
    src = Peer(PeerKind.POD, a.ip, "default", endpoint=a)
    q = L7Query(http_method="GET", http_path="/")
    assert evaluate(mesh, src, b.ip, 80, Protocol.TCP, q).answer == "200"


def test_markdown_report_escapes_the_pipes_of_regex_rules():
    """HTTP paths are RE2 (ref §2.7): ``/(a|b)`` must not split the Markdown table's row."""
    from cmesh.replay.report import Group, Report, render_markdown

    g = Group("breaks", "L7 refused at ingress", ("CNP default/x",), "spec: only GET /(a|b)")
    g.examples = [("c1/default/a -> c1/default/b:80/TCP GET /(a|b)", 3)]
    totals = dict.fromkeys(("breaks_flows", "breaks_connections", "opens_flows"), 0)
    rep = Report([g], {**totals, "opens_connections": 0}, {}, [])
    (row,) = [x for x in render_markdown(rep).splitlines() if x.startswith("| breaks")]
    assert row.replace("\\|", "").count("|") == 7
