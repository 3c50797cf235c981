"""`cmesh policy trace` on the guide's cluster: a story for people, JSON and JSONL for machines."""

import json

import pytest

from tests.conftest import SEED, Cmesh, guide_clusters


@pytest.fixture
def guide(cmesh: Cmesh) -> Cmesh:
    """cluster-1 and cluster-2 (not connected), each with the seed's workloads and two of its
    policies."""
    return guide_clusters(
        cmesh,
        SEED / "payment.yaml",
        SEED / "workloads.yaml",
        SEED / "policies" / "allow-frontend-to-payment.yaml",
        SEED / "policies" / "allow-from-cluster-1.yaml",
        connect=False,
    )


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
    # the request is decided by the proxies unless the connection is already dropped at L3/L4
    assert lines[4]["l7"]["evaluated"] is (lines[4]["verdict"] != "DROPPED")
    assert lines[5]["line"] == 6 and "error" in lines[5]


def test_policy_get_and_selectors(guide: Cmesh):
    out = guide("policy", "get", "default/database", "--context", "cluster-1").output
    assert "Ingress: default deny" in out and "allow-from-cluster-1" in out
    assert "Egress: allow by default" in out
    sel = guide("policy", "selectors", "--context", "cluster-1").output
    assert "any:app=frontend" in sel and "allow-frontend-to-payment" in sel
    listing = json.loads(guide("policy", "get", "-o", "json", "--context", "cluster-1").output)
    assert {p["name"] for p in listing} == {"allow-frontend-to-payment", "allow-from-cluster-1"}


L7_POLICIES = (SEED / "policies" / "api-http-policy.yaml",)


def test_http_fields_are_decided_by_the_proxy_ref_2_7(guide: Cmesh):
    for p in L7_POLICIES:
        guide("apply", "-f", str(p), "--context", "cluster-1")
    args = [
        "policy",
        "trace",
        "--from",
        "default/frontend",
        "--to",
        "svc:default/api",
        "--port",
        "8080",
        "-o",
        "json",
        "--context",
        "cluster-1",
    ]
    ok = json.loads(guide(*args, "--http-method", "GET", "--http-path", "/api/v1/orders").output)
    assert ok["l7"] == {
        "evaluated": True,
        "kind": "http",
        "verdict": "FORWARDED",
        "answer": "200",
        "by": "server",
        "notes": [],
    }
    no = json.loads(guide(*args, "--http-method", "POST", "--http-path", "/api/v1/orders").output)
    assert (no["l7"]["verdict"], no["l7"]["answer"], no["l7"]["by"]) == ("DROPPED", "403", "proxy")
    yes = json.loads(
        guide(
            *args,
            "--http-method",
            "POST",
            "--http-path",
            "/api/v1/orders",
            "--http-header",
            "Content-Type: application/json",
        ).output
    )
    assert yes["l7"]["verdict"] == "FORWARDED"
    story = guide(
        *args[:-6],
        "--context",
        "cluster-1",
        "--http-method",
        "DELETE",
        "--http-path",
        "/api/v1/orders",
    ).output
    assert "Verdict: FORWARDED at L3/L4, DROPPED at L7" in story


def test_dns_name_and_fqdn_destinations_ref_2_11(guide: Cmesh, manifest):
    guide("dns", "add", "example.com", "93.184.216.34")
    strict = manifest(
        "dns.yaml",
        "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: fe-dns}\nspec:\n  endpointSelector: {matchLabels: {app: frontend}}\n  egress:\n"
        "  - toEndpoints: [{matchLabels: {io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns}}]\n"
        "    toPorts: [{ports: [{port: '53', protocol: UDP}], rules: {dns: [{matchPattern: '**.cluster.local'}]}}]\n",
    )
    guide("apply", "-f", str(strict), "--context", "cluster-1")
    base = [
        "policy",
        "trace",
        "--from",
        "default/frontend",
        "--to",
        "svc:kube-system/kube-dns",
        "--port",
        "53",
        "--protocol",
        "UDP",
        "-o",
        "json",
        "--context",
        "cluster-1",
    ]
    refused = json.loads(guide(*base, "--dns-name", "example.com").output)
    assert (refused["l7"]["verdict"], refused["l7"]["answer"], refused["l7"]["by"]) == (
        "DROPPED",
        "REFUSED",
        "proxy",
    )
    ok = json.loads(guide(*base, "--dns-name", "payment-service.default.svc.cluster.local").output)
    assert ok["l7"]["verdict"] == "FORWARDED" and ok["l7"]["answer"].startswith("NOERROR")
    res = guide(
        "policy",
        "trace",
        "--from",
        "default/frontend",
        "--to",
        "fqdn:example.com.",
        "--port",
        "443",
        "--context",
        "cluster-1",
        ok=False,
    )
    assert res.exit_code == 1 and "did not resolve" in res.stderr
    t = json.loads(
        guide(
            "policy",
            "trace",
            "--from",
            "default/api",
            "--to",
            "fqdn:example.com.",
            "--port",
            "443",
            "-o",
            "json",
            "--context",
            "cluster-1",
        ).output
    )
    assert t["dns"]["verdict"] == "FORWARDED" and t["dst"]["ip"] == "93.184.216.34"


def test_icmp_type_ref_1_8(guide: Cmesh):
    t = json.loads(
        guide(
            "policy",
            "trace",
            "--from",
            "default/api",
            "--to",
            "default/frontend",
            "--icmp-type",
            "8",
            "-o",
            "json",
            "--context",
            "cluster-1",
        ).output
    )
    assert t["protocol"] == "ICMP" and t["port"] == 8


@pytest.mark.parametrize(
    ("mode", "ingress", "egress"),
    [("default", True, False), ("always", True, True), ("never", False, False)],
    ids=["default-by-rule", "always-everything", "never-nothing"],
)
def test_policy_get_default_deny_follows_enable_policy_ref_2_1(
    guide: Cmesh, mode: str, ingress: bool, egress: bool
):
    """database is selected by an ingress rule: default deny at ingress under ``default``, in
    both directions under ``always``, in neither under ``never`` (policy is not enforced), and
    `policy get`, `endpoint list` and the trace agree."""
    guide("config", "set", "enable-policy", mode, "--context", "cluster-1")
    got = json.loads(
        guide("policy", "get", "default/database", "-o", "json", "--context", "cluster-1").output
    )
    assert got["default_deny"] == {"ingress": ingress, "egress": egress}
    eps = json.loads(guide("endpoint", "list", "-o", "json", "--context", "cluster-1").output)
    db = next(e for e in eps if e["pod"] == "default/database-0")
    assert (db["policy_ingress"] == "Enabled", db["policy_egress"] == "Enabled") == (
        ingress,
        egress,
    )
    t = json.loads(
        guide(
            "policy", "trace", "--from", "default/frontend", "--to", "default/database",
            "--port", "5432", "-o", "json", "--context", "cluster-1",
        ).output
    )  # fmt: skip
    assert t["ingress"]["default_deny"] is ingress
    assert (t["verdict"] == "DROPPED") is ingress  # frontend is not allowed to the database


KAFKA = """\
apiVersion: v1
kind: Pod
metadata: {name: broker, labels: {app: kafka}}
spec: {containers: [{name: k, image: x, ports: [{containerPort: 9092}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client, labels: {app: client}}
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: kafka-topics}
spec:
  endpointSelector: {matchLabels: {app: kafka}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: client}}]
    toPorts:
    - ports: [{port: "9092", protocol: TCP}]
      rules:
        kafka: [{role: produce, topic: orders}]
"""


def test_kafka_rules_are_shown_like_http_and_dns_rules_ref_1_10(cmesh: Cmesh, manifest):
    """L7Rules is a union (http, kafka, dns, l7proto): whichever member a rule uses, the trace
    story, its JSON and `policy get` list the same rules."""
    cmesh("install", "--context", "c1", "--cluster-name", "c1", "--cluster-id", "1")
    cmesh("apply", "-f", str(manifest("kafka.yaml", KAFKA)), "--context", "c1")
    args = ("policy", "trace", "--from", "default/client", "--to", "default/broker")
    story = cmesh(*args, "--port", "9092", "--context", "c1").output
    assert "the request must match one of: role='produce'" in story and "topic='orders'" in story
    data = json.loads(cmesh(*args, "--port", "9092", "-o", "json", "--context", "c1").output)
    assert any("topic='orders'" in r for r in data["ingress"]["l7"]["rules"])
    shown = cmesh("policy", "get", "default/broker", "--context", "c1").output
    assert "topic='orders'" in shown


@pytest.mark.parametrize(
    ("src", "dst", "message"),
    [
        (
            "203.0.113.7",
            "fqdn:example.com",
            "203.0.113.7 is not a pod: a name is resolved by a pod",
        ),
        ("default/frontend", "fqdn:", "fqdn: needs a DNS name"),
    ],
    ids=["source-not-a-pod", "empty-name"],
)
def test_fqdn_destination_needs_a_pod_and_a_name(guide: Cmesh, src: str, dst: str, message: str):
    """Only a pod resolves a name (through its DNS proxy, ref §2.11): an IP source or an empty
    name is an input error saying what to give instead (the first was an assertion)."""
    res = guide(
        "policy",
        "trace",
        "--from",
        src,
        "--to",
        dst,
        "--port",
        "80",
        "--context",
        "cluster-1",
        ok=False,
    )
    assert res.exit_code == 1 and message in res.stderr and "hint: " in res.stderr
    assert "Traceback" not in res.output
