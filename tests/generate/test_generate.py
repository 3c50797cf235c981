"""``cmesh policy generate`` on flows recorded from the guide's clusters (issue 9).

The flows come from cmesh's own simulated traffic (``tests/replay/guide.py``) plus a few
hand-written Hubble flows for peers the simulation does not produce on its own: the
kube-apiserver, a node, the local host (ref §1.4, §2.9).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from cmesh.generate import GenerationNotVerified, generate
from cmesh.policy.importer import AUDIT_ANNOTATION
from cmesh.registry import Home


def _first(flows: Path, pod_prefix: str) -> dict:
    for line in flows.read_text().splitlines():
        f = json.loads(line)["flow"]
        if (f.get("source") or {}).get("pod_name", "").startswith(pod_prefix) and not f.get(
            "is_reply"
        ):
            return f
    raise AssertionError(pod_prefix)


@pytest.fixture(scope="module")
def flows(guide, tmp_path_factory) -> Path:
    """The guide's flows plus client -> kube-apiserver, api -> a node (ping), host -> api.

    api runs on the control-plane node, so that node is ``host`` to it; client runs on the
    worker, so the control plane is ``kube-apiserver`` to it (ref §1.4)."""
    api = _first(guide.flows, "api-")["source"]
    client = _first(guide.flows, "client-")["source"]
    node = "cluster-1/cluster-1-control-plane"

    def flow(src, dst, sip, dip, l4, direction):
        return {
            "flow": {
                "verdict": "FORWARDED",
                "IP": {"source": sip, "destination": dip},
                "l4": l4,
                "source": src,
                "destination": dst,
                "Type": "L3_L4",
                "event_type": {"type": 5},
                "traffic_direction": direction,
                "is_reply": False,
            },
            "node_name": node,
        }

    api_ip = "10.1.0.4"
    home = Home.open(guide.cmesh.home)
    try:
        nodes = {n.name: n.ip for n in home_nodes(home)}
    finally:
        home.close()
    extra = [
        flow(
            client,
            {"identity": 7, "labels": ["reserved:kube-apiserver"]},
            "10.1.1.2",
            nodes["cluster-1-control-plane"],
            {"TCP": {"destination_port": 6443}},
            "EGRESS",
        ),
        flow(
            api,
            {"identity": 6, "labels": ["reserved:remote-node"]},
            api_ip,
            nodes["cluster-1-worker"],
            {"ICMPv4": {"type": 8}},
            "EGRESS",
        ),
        flow(
            {"identity": 1, "labels": ["reserved:host"]},
            api,
            nodes["cluster-1-control-plane"],
            api_ip,
            {"TCP": {"destination_port": 8080}},
            "INGRESS",
        ),
    ]
    p = tmp_path_factory.mktemp("flows") / "flows.json"
    p.write_text(guide.flows.read_text() + "".join(json.dumps(e) + "\n" for e in extra))
    return p


def home_nodes(home):
    from cmesh.registry import ClusterRegistry

    return list(ClusterRegistry(home.store, home.cluster("cluster-1")).inventory().nodes.values())


@pytest.fixture(scope="module")
def generated(guide, flows, tmp_path_factory):
    out = tmp_path_factory.mktemp("gen")
    res = guide.cmesh("policy", "generate", str(flows), "--all-clusters", "--l7", "-o", str(out))
    docs = {
        p.relative_to(out).as_posix(): yaml.safe_load(p.read_text())
        for p in sorted(out.rglob("*.yaml"))
    }
    return out, docs, res.stdout


def _policy(docs, name):
    return next(d for k, d in docs.items() if k.endswith(name))


def test_one_valid_file_per_policy_verified_at_100_percent(guide, generated):
    out, docs, stdout = generated
    assert "100.0%" in stdout and "Verified by replay" in stdout
    assert {k.split("/")[0] for k in docs} == {"cluster-1", "cluster-2"}
    for rel, doc in docs.items():
        assert doc["kind"] == "CiliumNetworkPolicy"
        ctx = rel.split("/")[0]
        res = guide.cmesh("apply", "--dry-run", "client", "-f", str(out / rel), "--context", ctx)
        assert "created (dry run)" in res.stdout


def test_generated_policies_go_in_audited_ref_2_12(generated):
    _, docs, _ = generated
    assert all(d["metadata"]["annotations"][AUDIT_ANNOTATION] == "true" for d in docs.values())


def test_selectors_never_use_excluded_labels_ref_2_10(generated):
    _, docs, _ = generated
    text = yaml.safe_dump(list(docs.values()))
    assert "pod-template-hash" not in text and "statefulset.kubernetes.io" not in text


def test_cross_cluster_peers_carry_the_cluster_label_ref_1_14(generated, guide):
    _, docs, _ = generated
    crossing = []
    for rel, doc in docs.items():
        cluster = rel.split("/")[0]
        for side in ("ingress", "egress"):
            for el in doc["spec"][side]:
                for sel in el.get("fromEndpoints", []) + el.get("toEndpoints", []):
                    remote = sel["matchLabels"].get("io.cilium.k8s.policy.cluster")
                    if remote:
                        assert remote != cluster
                        assert sel["matchLabels"]["k8s:io.kubernetes.pod.namespace"]
                        crossing.append(rel)
    # frontend of each cluster reached the other cluster's payment (global service)
    assert any(r.startswith("cluster-1/") for r in crossing)
    assert any(r.startswith("cluster-2/") for r in crossing)


def test_reserved_peers_are_entities_ref_1_4(generated):
    _, docs, _ = generated
    client = _policy(docs, "cluster-1/default-client-generated.yaml")
    egress = {tuple(el.get("toEntities", ())): el for el in client["spec"]["egress"]}
    want = [{"port": "6443", "protocol": "TCP"}]
    assert egress[("kube-apiserver",)]["toPorts"][0]["ports"] == want
    api = _policy(docs, "cluster-1/default-api-generated.yaml")
    egress = {tuple(el.get("toEntities", ())): el for el in api["spec"]["egress"]}
    assert egress[("remote-node",)]["icmps"] == [{"fields": [{"family": "IPv4", "type": 8}]}]
    ingress = [el for el in api["spec"]["ingress"] if el.get("fromEntities") == ["host"]]
    assert ingress and ingress[0]["toPorts"][0]["ports"][0]["port"] == "8080"


def test_world_peers_by_name_with_the_dns_rule_that_makes_to_fqdns_work_ref_2_11(generated):
    _, docs, _ = generated
    client = _policy(docs, "cluster-1/default-client-generated.yaml")
    eg = client["spec"]["egress"]
    fq = [el for el in eg if "toFQDNs" in el]
    assert fq and fq[0]["toFQDNs"] == [{"matchName": "example.com"}]
    dns = [el for el in eg if any("dns" in pr.get("rules", {}) for pr in el.get("toPorts", []))]
    names = {r["matchName"] for el in dns for pr in el["toPorts"] for r in pr["rules"]["dns"]}
    assert "example.com" in names
    assert dns[0]["toEndpoints"][0]["matchLabels"]["k8s-app"] == "kube-dns"


def test_l7_http_rules_generalise_ids_ref_2_7(generated):
    _, docs, _ = generated
    http = [
        r
        for d in docs.values()
        for el in d["spec"]["ingress"]
        for pr in el.get("toPorts", [])
        for r in pr.get("rules", {}).get("http", [])
    ]
    assert {"method": "GET", "path": "/api/v1/orders/[0-9]+"} in http
    assert {"method": "POST", "path": "/api/v1/orders/[0-9]+"} in http
    assert {"method": "GET", "path": "/health"} in http


def test_unseen_directions_are_denied_by_the_empty_rule_ref_2_3(generated):
    _, docs, _ = generated
    frontend = _policy(docs, "cluster-1/default-frontend-generated.yaml")
    assert frontend["spec"]["ingress"] == [{}]


def test_permissiveness_counts_what_is_allowed_but_never_seen_ref_2_9(guide, flows, tmp_path):
    """Per workload the rules are exact, with one telling exception: ``toEntities:
    [remote-node]`` also selects the kube-apiserver identity, which carries the remote-node
    label too (ref §2.9), so api's ping rule allows one (identity, port) nobody used."""
    res = guide.cmesh("policy", "generate", str(flows), "--all-clusters", "--format", "json")
    summary = json.loads(res.stdout)
    extra = {
        (p["cluster"], p["policy"]): p["allowed_never_observed"] for p in summary["permissiveness"]
    }
    assert extra.pop(("cluster-1", "default/api-generated")) == 1
    assert extra and set(extra.values()) == {0}
    assert summary["verified"]["coverage_percent"] == 100.0
    res = guide.cmesh(
        "policy", "generate", str(flows), "--all-clusters", "--per", "namespace", "--format", "json"
    )
    ns = json.loads(res.stdout)
    assert {p["policy"] for p in ns["permissiveness"]} >= {"default/namespace-default-generated"}
    assert sum(p["allowed_never_observed"] for p in ns["permissiveness"]) > 0


def test_enforce_leaves_out_the_audit_annotation(guide, flows, tmp_path):
    guide.cmesh(
        "policy", "generate", str(flows), "--context", "cluster-2", "--enforce", "-o", str(tmp_path)
    )
    docs = [yaml.safe_load(p.read_text()) for p in tmp_path.rglob("*.yaml")]
    assert docs and all("annotations" not in d["metadata"] for d in docs)
    assert {p.parent.name for p in tmp_path.rglob("*.yaml")} == {"cluster-2"}


def test_generation_that_would_drop_its_own_flows_fails_loudly(guide, flows, tmp_path, monkeypatch):
    """Nothing is written when verification finds a flow the generated set would drop."""
    import cmesh.generate.run as run

    real = run.build_all

    def lossy(subjects, **kw):
        out = real(subjects, **kw)
        for docs in out.values():
            for d in docs:
                if d["metadata"]["name"] == "payment-generated":
                    d["spec"]["ingress"] = [{}]
        return out

    monkeypatch.setattr(run, "build_all", lossy)
    home = Home.open(guide.cmesh.home)
    try:
        with pytest.raises(GenerationNotVerified, match=r"forward \d+/\d+ flows .*payment"):
            generate(home, flows, clusters=["cluster-1", "cluster-2"], out_dir=tmp_path / "out")
    finally:
        home.close()
    assert not (tmp_path / "out").exists()
