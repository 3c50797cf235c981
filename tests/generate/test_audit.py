"""From observed traffic to enforced policy on the guide's two clusters (issue 9, done-when).

Permissive start, traffic, ``hubble observe -o json``, ``policy generate --l7``, a replay that
shows nothing would break, apply under audit (ref §2.12), an audit report, promotion (refused
while a policy would still drop something, unless forced), and a second replay after a
deliberately over-tight edit that shows exactly the flows that would break.
"""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from cmesh.policy.importer import AUDIT_ANNOTATION
from cmesh.registry import Home
from cmesh.replay import read_log
from tests.replay.guide import WALKTHROUGH


@pytest.fixture(scope="module")
def loop(guide, tmp_path_factory):
    root = tmp_path_factory.mktemp("loop")
    g = guide.copy(root)
    gen = root / "gen"
    g.cmesh("policy", "generate", str(g.flows), "--all-clusters", "--l7", "-o", str(gen))
    return g, gen, root


def _annotated(g, ctx: str, name: str) -> bool:
    out = g.cmesh("get", "cnp", name, "-n", "default", "-o", "yaml", "--context", ctx).stdout
    return AUDIT_ANNOTATION in out


def test_the_whole_loop(loop):
    g, gen, _root = loop
    # 1. the generated set replayed on the flows it came from: nothing breaks
    res = g.cmesh("replay", str(g.flows), "--all-clusters", "--policies", str(gen), ok=False)
    assert res.exit_code == 0 and "Nothing that was forwarded would be dropped" in res.stdout

    # 2. apply under audit, run the same traffic and one new connection
    for ctx in ("cluster-1", "cluster-2"):
        g.cmesh("apply", "-f", str(gen / ctx), "--context", ctx)
    for cluster, pod, argv in WALKTHROUGH:
        assert g.exec(cluster, pod, *argv) == 0  # audited: nothing is dropped
    assert g.exec("cluster-1", "default/frontend", "curl", "-s", "http://example.com/") == 0

    # 3. the audit report names what enforcing would drop right now: frontend's new world
    # connection, and any payment backend the load balancer picked that the log never saw
    rep = json.loads(g.cmesh("policy", "audit-report", "--all-clusters", "-o", "json").stdout)
    dirty = {(e["cluster"], e["namespace"], e["name"]): e for e in rep if not e["clean"]}
    fe = dirty[("cluster-1", "default", "frontend-generated")]
    assert any("93.184.216.34:80/TCP [egress]" in x["flow"] for x in fe["examples"])
    for (cluster, _ns, name), e in dirty.items():
        if name != "frontend-generated" or cluster != "cluster-1":
            assert all("/default/payment-" in x["flow"] for x in e["examples"]), e
    text = g.cmesh("policy", "audit-report", "--context", "cluster-1").stdout
    assert "WOULD DROP" in text and "clean" in text

    # 4. promotion refuses a policy that would drop traffic, and changes nothing
    res = g.cmesh(
        "policy",
        "promote",
        "default/frontend-generated",
        "default/api-generated",
        "--context",
        "cluster-1",
        ok=False,
    )
    # the connection to example.com, and its DNS query, which the generated DNS rules (names
    # seen in the log) would refuse: both are AUDIT flows of frontend-generated
    assert res.exit_code == 1 and "frontend-generated: " in res.stderr
    assert "AUDIT flows (3 connections)" in res.stderr
    assert _annotated(g, "cluster-1", "frontend-generated")
    assert _annotated(g, "cluster-1", "api-generated")  # all or nothing

    # 5. clean policies are promoted; --force promotes the others
    for ctx in ("cluster-1", "cluster-2"):
        clean = [f"{e['namespace']}/{e['name']}" for e in rep if e["clean"] and e["cluster"] == ctx]
        res = g.cmesh("policy", "promote", *clean, "--context", ctx)
        assert res.stdout.count("promoted: enforced") == len(clean)
        forced = [f"{ns}/{name}" for (c, ns, name) in dirty if c == ctx]
        if forced:
            res = g.cmesh("policy", "promote", *forced, "--force", "--context", ctx)
            assert res.stdout.count("(forced: ") == len(forced)
    assert not _annotated(g, "cluster-1", "api-generated")
    assert not _annotated(g, "cluster-1", "frontend-generated")
    res = g.cmesh(
        "policy", "promote", "default/frontend-generated", "--context", "cluster-1", ok=False
    )
    assert res.exit_code == 1 and "not in audit mode" in res.stderr

    # 6. enforced now: every recorded flow still passes, the unlisted connection does not
    res = g.cmesh("replay", str(g.flows), "--all-clusters", ok=False)
    assert res.exit_code == 0, res.stdout
    rc = g.exec("cluster-1", "default/frontend", "curl", "-s", "-m", "2", "http://example.com/")
    assert rc != 0


def test_an_over_tight_edit_breaks_exactly_the_cross_cluster_flows_ref_1_14(loop, tmp_path):
    """Drop the cluster label from cluster-2's payment policy: its peer selector then means
    cluster-2's frontend only (ref §1.14), so exactly cluster-1's frontend -> cluster-2's
    payment connections would break."""
    g, gen, _ = loop
    tight = tmp_path / "tight"
    shutil.copytree(gen, tight)
    path = tight / "cluster-2" / "default-payment-generated.yaml"
    doc = yaml.safe_load(path.read_text())
    for el in doc["spec"]["ingress"]:
        for sel in el.get("fromEndpoints", []):
            sel["matchLabels"].pop("io.cilium.k8s.policy.cluster", None)
            sel["matchLabels"].pop("k8s:io.kubernetes.pod.namespace", None)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    res = g.cmesh(
        "replay", str(g.flows), "--all-clusters", "--policies", str(tight), "-o", "json", ok=False
    )
    assert res.exit_code == 1
    data = json.loads(res.stdout)
    (group,) = data["changes"]
    assert group["policies"] == ["CNP default/payment-generated"]
    assert "ingress (cluster cluster-2" in group["reason"]
    # the explanation names the rule and what did not match (ref §1.14)
    assert group["nearest_miss"].startswith("CNP default/payment-generated spec.ingress[")
    assert "cluster-1" in group["nearest_miss"]

    log, _ = read_log(g.flows)
    expected = sum(
        n
        for k, n in log.counts.items()
        if k[1][0] == "cluster-1"
        and k[1][2].startswith("frontend")
        and k[2][0] == "cluster-2"
        and k[2][2].startswith("payment")
        and k[5] & 2
    )
    assert expected > 0 and data["summary"]["breaks_flows"] == group["flows"] == expected
    assert all(
        x["flow"].startswith("cluster-1/default/frontend")
        and "-> cluster-2/default/payment" in x["flow"]
        for x in group["examples"]
    )
    home = Home.open(g.cmesh.home)
    home.close()


AUDITED = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: web-in
  namespace: default
  annotations: {policy.cilium.io/audit-mode: "true"}
spec:
  endpointSelector: {matchLabels: {app: web}}
  ingress: [{}]
"""


def test_audit_report_and_promote_when_the_context_is_not_the_cluster_name(cmesh, tmp_path):
    """Both take the cluster by name (flows name clusters), not by context."""
    cmesh("install", "--context", "ctx-a", "--cluster-name", "alpha", "--cluster-id", "3")
    (tmp_path / "p.yaml").write_text(AUDITED)
    cmesh("apply", "-f", str(tmp_path / "p.yaml"), "--context", "ctx-a")
    rep = json.loads(cmesh("policy", "audit-report", "--context", "ctx-a", "-o", "json").stdout)
    assert [(e["cluster"], e["name"], e["clean"]) for e in rep] == [("alpha", "web-in", True)]
    rep = json.loads(cmesh("policy", "audit-report", "--all-clusters", "-o", "json").stdout)
    assert [e["cluster"] for e in rep] == ["alpha"]
    res = cmesh("policy", "promote", "default/web-in", "--context", "ctx-a")
    assert "promoted: enforced" in res.stdout
    out = cmesh("get", "cnp", "web-in", "-n", "default", "-o", "yaml", "--context", "ctx-a")
    assert AUDIT_ANNOTATION not in out.stdout
