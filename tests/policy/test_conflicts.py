"""L7 parser conflicts between two policies on one endpoint (ref §2.6): Cilium keeps one parser
per port/protocol (``L7ParserType.Merge``) and cannot compute such an endpoint's policy, so
``cmesh apply`` warns, naming both policies, the port and a pod."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Cmesh

CLIENT = """\
apiVersion: v1
kind: Pod
metadata: {name: client, labels: {app: client}}
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: dns-on-53}
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
  - toEndpoints: [{matchLabels: {io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns}}]
    toPorts: [{ports: [{port: "53", protocol: ANY}], rules: {dns: [{matchPattern: "*"}]}}]
"""

SECOND = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {{name: second}}
spec:
  endpointSelector: {{matchLabels: {{app: {subject}}}}}
  egress:
  - toEndpoints: [{{matchLabels: {{app: web}}}}]
    toPorts: [{{ports: [{{port: "{port}", protocol: TCP}}], rules: {rules}}}]
"""


@pytest.fixture
def c1(cmesh: Cmesh, manifest) -> Cmesh:
    cmesh("install", "--cluster-name", "c1", "--cluster-id", "1")
    cmesh("apply", "-f", str(manifest("client.yaml", CLIENT)))
    return cmesh


def test_http_and_dns_on_one_port_of_one_endpoint_warn_ref_2_6(c1: Cmesh, manifest):
    second = SECOND.format(subject="client", port=53, rules="{http: [{method: GET}]}")
    res = c1("apply", "-f", str(manifest("second.yaml", second)))
    assert "ciliumnetworkpolicy.cilium.io/second created" in res.stdout
    assert (
        "warning: c1: CiliumNetworkPolicy default/dns-on-53 (dns) and CiliumNetworkPolicy "
        "default/second (http) put L7 rules on port 53/TCP at egress, for pod default/client: "
        "Cilium cannot merge conflicting L7 parsers (dns/http)"
    ) in res.stderr
    assert "hint: one port carries one L7 protocol" in res.stderr


@pytest.mark.parametrize(
    ("subject", "port", "rules"),
    [
        ("client", 53, "{dns: [{matchName: example.com}]}"),  # the same parser merges
        ("client", 8053, "{http: [{method: GET}]}"),  # another port
        ("other", 53, "{http: [{method: GET}]}"),  # another endpoint
    ],
    ids=["same-parser", "other-port", "other-endpoint"],
)
def test_no_warning_without_a_conflict(c1: Cmesh, manifest, subject, port, rules):
    second = SECOND.format(subject=subject, port=port, rules=rules)
    res = c1("apply", "-f", str(manifest("second.yaml", second)))
    assert "cannot merge" not in res.stderr


def test_trace_names_the_endpoint_cilium_cannot_compute_ref_2_6(c1: Cmesh, manifest):
    """A flow from the conflicted endpoint on that port carries a note; another port does not."""
    second = SECOND.format(subject="client", port=53, rules="{http: [{method: GET}]}")
    web = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, labels: {app: web}}\n"
    c1("apply", "-f", str(manifest("second.yaml", second + "---\n" + web)))

    def notes(port: int) -> list[str]:
        out = c1("policy", "trace", "--from", "default/client", "--to", "default/web",
                 "--port", str(port), "-o", "json").output  # fmt: skip
        return json.loads(out).get("notes", [])

    (note,) = notes(53)
    assert note.startswith("c1/default/client: CiliumNetworkPolicy default/dns-on-53 (dns)")
    assert "fails to compute that endpoint's policy, which keeps its previous policy" in note
    assert notes(54) == []
