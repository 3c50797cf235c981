"""`cmesh policy trace` on the guide's cluster: a story for people, JSON and JSONL for machines."""

import json

import pytest

from tests.conftest import EXAMPLES, Cmesh

SEED = EXAMPLES / "seed"


@pytest.fixture
def guide(two_clusters: Cmesh) -> Cmesh:
    for ctx in ("cluster-1", "cluster-2"):
        two_clusters(
            "apply",
            "-f",
            str(SEED / "payment.yaml"),
            "-f",
            str(SEED / "workloads.yaml"),
            "--context",
            ctx,
        )
        two_clusters(
            "apply",
            "-f",
            str(SEED / "policies" / "allow-frontend-to-payment.yaml"),
            "-f",
            str(SEED / "policies" / "allow-from-cluster-1.yaml"),
            "--context",
            ctx,
        )
    return two_clusters


def test_allowed_flow_through_a_service(guide: Cmesh):
    out = guide(
        "policy",
        "trace",
        "--from",
        "default/frontend",
        "--to",
        "svc:default/payment-service",
        "--port",
        "80",
        "--context",
        "cluster-1",
    ).output
    assert "Service: default/payment-service" in out and "backend" in out
    assert "allowed by CiliumNetworkPolicy default/allow-frontend-to-payment" in out
    assert out.strip().endswith("Verdict: FORWARDED")


def test_default_deny_drop_explains_who_and_nearest_miss(guide: Cmesh):
    out = guide(
        "policy",
        "trace",
        "--from",
        "default/frontend",
        "--to",
        "default/database",
        "--port",
        "5432",
        "--context",
        "cluster-1",
    ).output
    assert "DROPPED (POLICY_DENIED)" in out
    assert "allow-from-cluster-1" in out
    assert "label: needs app=api, peer has app=frontend" in out
    assert "allow-from-cluster-1.yaml:" in out  # the rule's own line
    assert "Verdict: DROPPED (POLICY_DENIED, at ingress)" in out


def test_json_fields(guide: Cmesh):
    data = json.loads(
        guide(
            "policy",
            "trace",
            "--from",
            "default/api",
            "--to",
            "default/database",
            "--port",
            "5432",
            "-o",
            "json",
            "--context",
            "cluster-1",
        ).output
    )
    assert data["verdict"] == "FORWARDED" and data["decided_at"] is None
    assert data["ingress"]["allowed_by"][0]["name"] == "allow-from-cluster-1"
    assert data["ingress"]["match_type"] == "L3-L4"
    assert {p["name"] for p in data["policies"]} == {"allow-from-cluster-1"}
    for key in ("verdict", "drop_reason", "decided_at", "egress", "ingress", "policies"):
        assert key in data


def test_jsonl_queries_answer_in_order(guide: Cmesh, tmp_path):
    q = tmp_path / "q.jsonl"
    q.write_text(
        "\n".join(
            json.dumps(x)
            for x in [
                {
                    "id": 1,
                    "src": {"cluster": "cluster-1", "namespace": "default", "pod": "api"},
                    "dst": {"cluster": "cluster-1", "namespace": "default", "pod": "database-0"},
                    "port": 5432,
                    "protocol": "TCP",
                },
                {
                    "id": 2,
                    "src": {"cluster": "cluster-1", "namespace": "default", "pod": "frontend"},
                    "dst": {"cluster": "cluster-1", "namespace": "default", "pod": "database-0"},
                    "port": 5432,
                },
                {
                    "id": 3,
                    "src": {"ip": "8.8.8.8"},
                    "dst": {
                        "cluster": "cluster-1",
                        "namespace": "default",
                        "service": "payment-service",
                    },
                    "port": 80,
                },
                {
                    "id": 4,
                    "src": {"cluster": "cluster-1", "namespace": "default", "pod": "nope"},
                    "dst": {"ip": "1.1.1.1"},
                    "port": 1,
                },
                {
                    "id": 5,
                    "src": {"cluster": "cluster-1", "namespace": "default", "pod": "frontend"},
                    "dst": {
                        "cluster": "cluster-1",
                        "namespace": "default",
                        "service": "payment-service",
                    },
                    "port": 80,
                    "http": {"method": "GET", "path": "/"},
                },
            ]
        )
        + "\nnot json\n"
    )
    lines = [
        json.loads(x)
        for x in guide(
            "policy", "trace", "--queries", str(q), "--context", "cluster-1"
        ).output.splitlines()
    ]
    assert [x.get("id") for x in lines[:5]] == [1, 2, 3, 4, 5]
    assert [x.get("verdict") for x in lines[:3]] == ["FORWARDED", "DROPPED", "DROPPED"]
    assert lines[1]["drop_reason"] == "POLICY_DENIED" and lines[1]["decided_at"] == "ingress"
    assert "error" in lines[3] and "not found" in lines[3]["error"]
    assert lines[4]["l7"]["evaluated"] is False
    assert lines[5]["line"] == 6 and "error" in lines[5]


def test_policy_get_and_selectors(guide: Cmesh):
    out = guide("policy", "get", "default/database", "--context", "cluster-1").output
    assert "Ingress: default deny" in out and "allow-from-cluster-1" in out
    assert "Egress: allow by default" in out
    sel = guide("policy", "selectors", "--context", "cluster-1").output
    assert "any:app=frontend" in sel and "allow-frontend-to-payment" in sel
    listing = json.loads(guide("policy", "get", "-o", "json", "--context", "cluster-1").output)
    assert {p["name"] for p in listing} == {"allow-frontend-to-payment", "allow-from-cluster-1"}
