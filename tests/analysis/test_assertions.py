"""``cmesh test``'s L7 answers are the simulated proxies' answers (ref §1.10, §2.7).

The checker decides a request with the rules of the flow's verdict, as the proxies do
(:mod:`cmesh.datapath.proxy`); these tests pin the parts that are the proxy's, not the
matcher's — a ``headerMatches`` secret read from the enforcing cluster, the cluster's DNS reject
code — and compare with the request sent through the simulated datapath itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cmesh.analysis.assertions import Checker, select_pods
from cmesh.analysis.sources import load
from cmesh.analysis.spec import Selector, parse_spec
from cmesh.datapath.l7trace import L7Query, evaluate
from cmesh.datapath.tracer import find_pod
from cmesh.policy import Protocol
from cmesh.registry import Home
from tests.conftest import Cmesh, pods_yaml

PODS = pods_yaml("a", "b")

TOKEN = """\
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
        - method: GET
          headerMatches: [{name: X-Token, secret: {namespace: default, name: tok}}]
"""

SPEC = """\
apiVersion: cmesh.io/v1alpha1
kind: ConnectivityTest
spec:
  expectations:
  - name: token
    from: {pod: a}
    to: {pod: b}
    ports: [80/TCP]
    http: {method: GET, path: /, headers: {X-Token: %s}}
    expect: allow
"""


@pytest.mark.parametrize(("token", "allowed"), [("s3cret", True), ("wrong", False)])
def test_header_match_reads_the_secret_as_the_proxy_does_ref_2_7(
    tmp_path: Path, token: str, allowed: bool
):
    """``headerMatches`` with a secret compares the header with the secret's value (ref §2.7);
    without the Secret the rule would never match and every request would be refused."""
    (tmp_path / "m.yaml").write_text(PODS + TOKEN)
    mesh = load(str(tmp_path), None).mesh
    (result,) = Checker(mesh).run(parse_spec(SPEC % token, "spec.yaml"))
    (flow,) = result.flows
    assert flow.allowed is allowed
    assert flow.verdict == ("FORWARDED" if allowed else "HTTP 403")
    # the simulated datapath's proxy answers the same request the same way
    src = find_pod(mesh, "default", "default", "a")
    dst = find_pod(mesh, "default", "default", "b")
    q = L7Query(http_method="GET", http_path="/", http_headers=(("X-Token", token),))
    sent = evaluate(mesh, src, dst.ip, 80, Protocol.TCP, q)
    assert sent.answer == ("200" if allowed else "403")


DNS_ONLY_CLUSTER = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: a-dns, namespace: default}
spec:
  endpointSelector: {matchLabels: {app: a}}
  egress:
  - toEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns}}]
    toPorts:
    - ports: [{port: "53", protocol: ANY}]
      rules: {dns: [{matchPattern: "*.cluster.local"}]}
"""

DNS_SPEC = """\
apiVersion: cmesh.io/v1alpha1
kind: ConnectivityTest
spec:
  expectations:
  - name: outside names
    from: {pod: a}
    to: {namespace: kube-system, labels: {k8s-app: kube-dns}}
    dns: {name: example.com}
    expect: allow
"""


@pytest.mark.parametrize(("setting", "rcode"), [("refused", "REFUSED"), ("nameError", "NXDOMAIN")])
def test_dns_refusal_answers_the_clusters_reject_code_ref_1_10(
    cmesh: Cmesh, tmp_path: Path, setting: str, rcode: str
):
    """A name no DNS rule allows is answered with the cluster's
    ``tofqdns-dns-reject-response-code`` (ref §1.10), as the simulated DNS proxy answers it."""
    cmesh("install", "--context", "c1", "--cluster-name", "c1", "--cluster-id", "1")
    (tmp_path / "m.yaml").write_text(PODS + DNS_ONLY_CLUSTER)
    cmesh("apply", "-f", str(tmp_path / "m.yaml"))
    cmesh("config", "set", "tofqdns-dns-reject-response-code", setting)
    home = Home.open(cmesh.home)
    try:
        for fresh in (False, True):  # the stored views, and views built from the objects
            mesh = load("HOME", home, fresh=fresh).mesh
            (result,) = Checker(mesh).run(parse_spec(DNS_SPEC, "spec.yaml"))
            assert result.flows and {f.verdict for f in result.failures} == {f"DNS {rcode}"}
            src = find_pod(mesh, "c1", "default", "a")
            dns = select_pods(mesh, Selector(labels=(("k8s-app", "kube-dns"),)))[0]
            q = L7Query(dns_name="example.com")
            sent = evaluate(mesh, src, dns.ip, 53, Protocol.UDP, q)
            assert (sent.by, sent.answer) == ("proxy", rcode)
    finally:
        home.close()
