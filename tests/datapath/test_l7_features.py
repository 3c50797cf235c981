"""TLS SNI and terminatingTLS, mutual authentication across clusters, ICMP, the DNS reject code
and per-policy audit at L7, as a user meets them: `cmesh exec` tools, `hubble observe`, `policy
trace` (ref §1.8, §1.10, §1.11, §2.6-§2.8, §2.11, §2.12)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Cmesh
from tests.datapath.conftest import apply, ex, flows

DNS_EGRESS = """\
  - toEndpoints: [{matchLabels: {io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns}}]
    toPorts: [{ports: [{port: "53", protocol: ANY}], rules: {dns: [{matchPattern: "**.cluster.local"}]}}]
"""

SNI = f"""\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {{name: client-egress, namespace: default}}
spec:
  endpointSelector: {{matchLabels: {{app: client}}}}
  egress:
{DNS_EGRESS}  - toEndpoints: [{{matchLabels: {{app: secure-service}}}}]
    toPorts:
    - ports: [{{port: "443", protocol: TCP}}]
      serverNames: ["*.default.svc.cluster.local"]
"""

TERMINATING = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: tls-http, namespace: default}
spec:
  endpointSelector: {matchLabels: {app: secure-service}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: client}}]
    toPorts:
    - ports: [{port: "443", protocol: TCP}]
      terminatingTLS: {secret: {name: server-tls, namespace: default}}
      rules:
        http: [{method: GET, path: "/public.*"}]
"""

SECRET = """\
apiVersion: v1
kind: Secret
metadata: {name: server-tls, namespace: default}
type: kubernetes.io/tls
stringData: {tls.crt: simulated, tls.key: simulated}
"""

AUTH = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: auth, namespace: default}
spec:
  endpointSelector: {matchLabels: {app: secure-service}}
  ingress:
  - fromEndpoints:
    - matchLabels: {app: other}
      matchExpressions: [{key: io.cilium.k8s.policy.cluster, operator: Exists}]
    authentication: {mode: required}
    toPorts: [{ports: [{port: "8080", protocol: TCP}]}]
"""


def pod_ip(c: Cmesh, ctx: str, prefix: str) -> str:
    out = c("get", "pods", "--context", ctx, "-o", "wide").stdout
    return next(line.split()[5] for line in out.splitlines() if line.startswith(prefix))


def test_curl_https_sends_the_host_as_sni_and_a_refused_sni_is_exit_35_ref_1_8(
    mesh: Cmesh, tmp_path: Path
) -> None:
    """serverNames use the DNS wildcard rules: ``*.default.svc.cluster.local`` admits the full
    service name; curl's SNI is the URL's host, so ``https://secure-service/`` is refused and
    curl reports a failed TLS handshake (exit 35)."""
    apply(mesh, tmp_path, SNI)
    ok = ex(
        mesh, "default/client", "curl", "-s", "https://secure-service.default.svc.cluster.local/"
    )
    assert ok.exit_code == 0 and json.loads(ok.stdout)["pod"].startswith("secure-service")
    bad = ex(mesh, "default/client", "curl", "-s", "https://secure-service/")
    assert bad.exit_code == 35
    assert "serverNames" in bad.stderr


def test_http_rules_behind_terminating_tls_see_the_decrypted_request_ref_2_7(
    mesh: Cmesh, tmp_path: Path
) -> None:
    """With terminatingTLS the proxy reads the HTTPS request: path rules apply (full match,
    `/public.*`), a denied request is a 403 from the proxy and an L7 DROPPED flow."""
    apply(mesh, tmp_path, SECRET + "---\n" + TERMINATING)
    url = "https://secure-service.default.svc.cluster.local"
    ok = ex(mesh, "default/client", "curl", "-s", "-w", "%{http_code}", f"{url}/public/x")
    assert ok.exit_code == 0 and ok.stdout.endswith("200")
    denied = ex(mesh, "default/client", "curl", "-s", "-w", "%{http_code}", f"{url}/admin")
    assert denied.exit_code == 0 and denied.stdout.splitlines() == ["Access denied", "403"]
    l7 = [f for f in flows(mesh, "cluster-1", "--type", "l7") if f["l7"].get("http")]
    dropped = [f for f in l7 if f["verdict"] == "DROPPED"]
    assert [f["l7"]["http"]["url"] for f in dropped] == [f"{url}/admin"]


def test_terminating_tls_with_a_missing_secret_never_matches_ref_2_7(
    mesh: Cmesh, tmp_path: Path
) -> None:
    """Without the Secret the proxy cannot terminate TLS: the rule never matches and the
    handshake fails (curl exit 35) instead of the request passing unchecked."""
    apply(mesh, tmp_path, TERMINATING)
    r = ex(
        mesh,
        "default/client",
        "curl",
        "-s",
        "https://secure-service.default.svc.cluster.local/public",
    )
    assert r.exit_code == 35
    assert "default/server-tls not found" in r.stderr


def test_mutual_auth_within_a_cluster_passes_after_the_handshake_ref_1_11(
    mesh: Cmesh, tmp_path: Path
) -> None:
    """The first SYN is dropped with AUTH_REQUIRED; once the SPIFFE identities are
    authenticated (one trust domain per cluster) the retransmission is forwarded."""
    apply(mesh, tmp_path, AUTH)
    r = ex(mesh, "default/other", "curl", "-s", "-m", "3", "http://secure-service:8080/")
    assert r.exit_code == 0
    got = flows(mesh, "cluster-1", "--from-pod", "default/other", "--port", "8080")
    kinds = [(f["verdict"], f.get("drop_reason_desc", "")) for f in got if not f.get("is_reply")]
    assert ("DROPPED", "AUTH_REQUIRED") in kinds
    assert kinds.index(("DROPPED", "AUTH_REQUIRED")) < len(kinds) - 1
    assert kinds[-1][0] == "FORWARDED"


def test_mutual_auth_across_clusters_needs_a_shared_trust_domain_ref_1_11(
    mesh: Cmesh, tmp_path: Path
) -> None:
    """Cilium documents mutual auth as not compatible with ClusterMesh (no shared trust
    domain): cross-cluster flows stay AUTH_REQUIRED until both clusters declare one."""
    apply(mesh, tmp_path, AUTH, ctx="cluster-2")
    target = f"http://{pod_ip(mesh, 'cluster-2', 'secure-service')}:8080/"
    r = ex(mesh, "default/other", "curl", "-s", "-m", "3", target)
    assert r.exit_code == 28
    drops = flows(mesh, "cluster-2", "--verdict", "DROPPED")
    assert drops and {f["drop_reason_desc"] for f in drops} == {"AUTH_REQUIRED"}
    for ctx in ("cluster-1", "cluster-2"):
        mesh("config", "set", "mutual-auth-trust-domain", "mesh.example", "--context", ctx)
    assert ex(mesh, "default/other", "curl", "-s", "-m", "3", target).exit_code == 0


def test_auth_mode_test_always_fail_never_authenticates_ref_1_11(
    mesh: Cmesh, tmp_path: Path
) -> None:
    apply(mesh, tmp_path, AUTH.replace("mode: required", "mode: test-always-fail"))
    r = ex(mesh, "default/other", "curl", "-s", "-m", "3", "http://secure-service:8080/")
    assert r.exit_code == 28
    assert all(
        f["drop_reason_desc"] == "AUTH_REQUIRED"
        for f in flows(mesh, "cluster-1", "--verdict", "DROPPED")
    )


def test_a_ping_that_never_authenticates_is_one_drop_per_echo_ref_1_11(
    mesh: Cmesh, tmp_path: Path
) -> None:
    """AUTH_REQUIRED drops the packets the client sends until it gives up: a TCP client's SYN
    retransmissions, but a single echo request for ``ping -c 1``, however long it waits."""
    icmp_auth = AUTH.replace("mode: required", "mode: test-always-fail").replace(
        'toPorts: [{ports: [{port: "8080", protocol: TCP}]}]',
        "icmps: [{fields: [{family: IPv4, type: EchoRequest}]}]",
    )
    apply(mesh, tmp_path, icmp_auth)
    ip = pod_ip(mesh, "cluster-1", "secure-service")
    r = ex(mesh, "default/other", "ping", "-c", "1", "-W", "5", ip)
    assert r.exit_code == 1 and "100% packet loss" in r.stdout
    drops = flows(mesh, "cluster-1", "--verdict", "DROPPED", "--protocol", "icmp")
    assert [f["drop_reason_desc"] for f in drops] == ["AUTH_REQUIRED"]


ICMP = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: icmp, namespace: default}
spec:
  endpointSelector: {matchLabels: {app: client}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: other}}]
    icmps: [{fields: [{family: IPv4, type: EchoRequest}]}]
  - fromEndpoints: [{matchLabels: {app: secure-service}}]
    toPorts: [{ports: [{port: "9000", protocol: TCP}]}]
"""


def test_icmps_type_names_and_l4_rules_block_other_icmp_ref_1_8(
    mesh: Cmesh, tmp_path: Path
) -> None:
    """`type: EchoRequest` admits ping from `other`; the peer allowed only on TCP 9000 cannot
    ping (an L4 rule blocks ICMP it does not name), and policy trace agrees."""
    apply(mesh, tmp_path, ICMP)
    ip = pod_ip(mesh, "cluster-1", "client")
    assert ex(mesh, "default/other", "ping", "-c", "1", "-W", "1", ip).exit_code == 0
    blocked = ex(mesh, "default/secure-service", "ping", "-c", "1", "-W", "1", ip)
    assert blocked.exit_code == 1 and "100% packet loss" in blocked.stdout
    got = flows(mesh, "cluster-1", "--verdict", "DROPPED", "--protocol", "icmp")
    assert got and got[-1]["drop_reason_desc"] == "POLICY_DENIED"
    trace = mesh(
        "policy", "trace", "--context", "cluster-1", "--from", "default/other",
        "--to", "default/client", "--icmp-type", "8", "-o", "json", ok=False,
    )  # fmt: skip
    assert json.loads(trace.stdout)["verdict"] == "FORWARDED"


def test_dns_reject_response_code_is_configurable_ref_2_11(mesh: Cmesh, tmp_path: Path) -> None:
    """A query no DNS rule allows is answered REFUSED; with
    `tofqdns-dns-reject-response-code nameError` it is NXDOMAIN. Either way curl exits 6."""
    apply(mesh, tmp_path, SNI)
    dig = ex(mesh, "default/client", "dig", "blocked.example.org")
    assert "status: REFUSED" in dig.stdout
    mesh("config", "set", "tofqdns-dns-reject-response-code", "nameError", "--context", "cluster-1")
    dig = ex(mesh, "default/client", "dig", "blocked.example.org")
    assert "status: NXDOMAIN" in dig.stdout
    assert ex(mesh, "default/client", "curl", "-s", "http://blocked.example.org/").exit_code == 6


AUDITED_L7 = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: http-audited
  namespace: default
  annotations: {policy.cilium.io/audit-mode: "true"}
spec:
  endpointSelector: {matchLabels: {app: secure-service}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: client}}]
    toPorts:
    - ports: [{port: "8080", protocol: TCP}]
      rules: {http: [{method: GET, path: "/public.*"}]}
"""

ENFORCED_L4 = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: l4-allow, namespace: default}
spec:
  endpointSelector: {matchLabels: {app: secure-service}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: client}}]
    toPorts: [{ports: [{port: "8080", protocol: TCP}]}]
"""


def l7_requests(c: Cmesh) -> dict[str, str]:
    return {
        f["l7"]["http"]["url"].rsplit(":8080", 1)[1]: f["verdict"]
        for f in flows(c, "cluster-1", "--type", "l7")
        if f["l7"].get("type") == "REQUEST" and f["l7"].get("http")
    }


def curl_paths(c: Cmesh, *paths: str) -> None:
    for path in paths:
        r = ex(
            c,
            "default/client",
            "curl",
            "-s",
            "-w",
            "%{http_code}",
            f"http://secure-service:8080{path}",
        )
        assert r.exit_code == 0 and r.stdout.endswith("200"), r.stdout


def test_per_policy_audit_at_l7_reports_what_it_would_deny_and_passes_ref_2_12(
    mesh: Cmesh, tmp_path: Path
) -> None:
    """An audited HTTP policy: a request its rules would deny is answered by the server and
    recorded as an L7 AUDIT flow; a request they allow is an L7 FORWARDED flow."""
    apply(mesh, tmp_path, AUDITED_L7)
    curl_paths(mesh, "/public/a", "/admin")
    assert l7_requests(mesh) == {"/public/a": "FORWARDED", "/admin": "AUDIT"}


def test_per_policy_audit_counts_only_what_enforcing_it_would_change_ref_2_6_ref_2_12(
    mesh: Cmesh, tmp_path: Path
) -> None:
    """Next to an enforcing L4-only allow on the same port and peer, enforcing the audited
    HTTP rules would change nothing (the L4 allow wildcards L7, ref §2.6): no AUDIT flow and
    no proxy redirect; every request is simply forwarded."""
    apply(mesh, tmp_path, AUDITED_L7 + "---\n" + ENFORCED_L4)
    curl_paths(mesh, "/public/a", "/admin")
    assert l7_requests(mesh) == {}
    assert not flows(mesh, "cluster-1", "--verdict", "AUDIT")


AUDITED_DNS = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: dns-audited
  namespace: default
  annotations: {policy.cilium.io/audit-mode: "true"}
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
  - toEndpoints: [{matchLabels: {io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns}}]
    toPorts:
    - ports: [{port: "53", protocol: ANY}]
      rules: {dns: [{matchPattern: "**.cluster.local"}]}
"""


def test_per_policy_audit_of_dns_rules_reports_the_query_and_answers_it_ref_2_12(
    mesh: Cmesh, tmp_path: Path
) -> None:
    """An audited DNS rule: a query it would refuse is answered (the audited policy is not
    enforced) and its DNS request flow is AUDIT; a query it allows is FORWARDED."""
    apply(mesh, tmp_path, AUDITED_DNS)
    mesh("dns", "add", "example.org", "198.51.100.7")
    out = ex(mesh, "default/client", "dig", "+short", "example.org")
    assert out.exit_code == 0 and out.stdout.strip() == "198.51.100.7"
    ok = ex(mesh, "default/client", "dig", "+short", "secure-service.default.svc.cluster.local")
    assert ok.exit_code == 0 and ok.stdout.strip()
    got = {
        f["l7"]["dns"]["query"]: f["verdict"]
        for f in flows(mesh, "cluster-1", "--type", "l7", "--from-pod", "default/client")
        if f["l7"].get("type") == "REQUEST"
    }
    assert got == {
        "example.org.": "AUDIT",
        "secure-service.default.svc.cluster.local.": "FORWARDED",
    }


def test_a_mesh_built_from_objects_keeps_each_clusters_trust_domain_ref_1_11() -> None:
    """The trust domain is each cluster's own setting, read from its view: a mesh that
    ``policy diff`` or ``cmesh test --manifests`` builds in memory authenticates as the stored
    one does (SPIFFE default ``<cluster>.spiffe.cilium`` unless set)."""
    from cmesh.cluster import ClusterConfig
    from cmesh.datapath import Mesh
    from cmesh.policy import build_view

    cfgs = [
        ClusterConfig(
            context="a", name="a", id=1, pod_cidr="10.1.0.0/16", node_cidr="172.18.1.0/24"
        ),
        ClusterConfig(
            context="b",
            name="b",
            id=2,
            pod_cidr="10.2.0.0/16",
            node_cidr="172.18.2.0/24",
            auth_trust_domain="mesh.example",
        ),
    ]
    mesh = Mesh({c.name: build_view(c, {}) for c in cfgs})
    assert mesh.trust_domain("a") == "a.spiffe.cilium"
    assert mesh.trust_domain("b") == "mesh.example"
