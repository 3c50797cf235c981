"""Policies Cilium rejects are rejected at apply, with file:line, path and what to do (ref §1.2-§1.11, §7)."""

import pytest

from cmesh.errors import Severity
from cmesh.model import load_text
from cmesh.policy import validate_all


def rule(body: str, kind: str = "CiliumNetworkPolicy") -> str:
    indented = "\n".join("  " + line for line in body.strip("\n").splitlines())
    return f"apiVersion: cilium.io/v2\nkind: {kind}\nmetadata:\n  name: p\nspec:\n  endpointSelector: {{}}\n{indented}\n"


def errors(text: str) -> list:
    res, diags = load_text(text, "p.yaml")
    assert not [d for d in diags if d.severity is Severity.ERROR], [d.render() for d in diags]
    return [d for d in validate_all(res) if d.severity is Severity.ERROR]


CASES = {
    "no-sections-ref-1.2": (
        "ingress: []",
        "rule must have at least one of Ingress, IngressDeny, Egress, EgressDeny",
        "ingress: [{}]",
    ),
    "peer-combination-ref-1.3": (
        "ingress:\n- fromEndpoints: [{}]\n  fromCIDR: [10.0.0.0/8]",
        "Combining fromEndpoints and fromCIDR is not supported yet",
        "split",
    ),
    "icmp-with-ports-ref-1.3": (
        "ingress:\n- icmps: [{fields: [{type: 8}]}]\n  toPorts: [{ports: [{port: '80'}]}]",
        "ICMPs block may only be present without ToPorts",
        "",
    ),
    "from-requires-removed-ref-1.9": (
        "ingress:\n- fromEndpoints: [{}]\n  fromRequires: [{matchLabels: {a: b}}]",
        "fromRequires is not supported in Cilium 1.19",
        "authentication",
    ),
    "unknown-entity-ref-1.4": (
        "egress:\n- toEntities: [cluster-mesh]",
        "unsupported entity: cluster-mesh",
        "1.20",
    ),
    "except-outside-cidr-ref-1.5": (
        "egress:\n- toCIDRSet: [{cidr: 10.0.0.0/8, except: [192.168.0.0/16]}]",
        "does not contain exclude CIDR prefix",
        "",
    ),
    "bad-cidr-ref-1.5": ("egress:\n- toCIDR: [10.0.0.0/33]", "unable to parse CIDR", ""),
    "dns-on-ingress-ref-1.10": (
        "ingress:\n- toPorts: [{ports: [{port: '53', protocol: UDP}], rules: {dns: [{matchPattern: '*'}]}}]",
        "DNS rules are not allowed on ingress",
        "",
    ),
    "dns-needs-port-ref-1.10": (
        "egress:\n- toPorts: [{rules: {dns: [{matchPattern: '*'}]}}]",
        "Port 53 must be specified for DNS rules",
        "",
    ),
    "dns-no-range-ref-1.8": (
        "egress:\n- toPorts: [{ports: [{port: '53', endPort: 54, protocol: UDP}], rules: {dns: [{matchPattern: '*'}]}}]",
        "DNS rules do not support port ranges",
        "",
    ),
    "l7-on-port-0-ref-1.8": (
        "ingress:\n- toPorts: [{ports: [{port: '0', protocol: TCP}], rules: {http: [{}]}}]",
        "L7 rules can not be used when a port is 0",
        "",
    ),
    "http-needs-tcp-ref-1.10": (
        "ingress:\n- toPorts: [{ports: [{port: '80', protocol: UDP}], rules: {http: [{}]}}]",
        "L7 rules can only apply to TCP",
        "",
    ),
    "http-any-protocol-ref-1.10": (
        "ingress:\n- toPorts: [{ports: [{port: '80'}], rules: {http: [{}]}}]",
        "L7 rules can only apply to TCP (not ANY)",
        "",
    ),
    "two-l7-types-ref-1.10": (
        "egress:\n- toPorts: [{ports: [{port: '53', protocol: TCP}], rules: {http: [{}], dns: [{matchName: a.com}]}}]",
        "multiple L7 protocol rule types",
        "",
    ),
    "conflicting-l7-parsers-other-peers-ref-2.6": (
        "ingress:\n- fromEndpoints: [{matchLabels: {a: b}}]\n  toPorts: [{ports: [{port: '80', protocol: TCP}], rules: {http: [{}]}}]"
        "\n- fromEndpoints: [{matchLabels: {c: d}}]\n  toPorts: [{ports: [{port: '80', protocol: TCP}], rules: {kafka: [{topic: t}]}}]",
        "cannot merge conflicting L7 parsers (http/kafka)",
        "whatever the peers",
    ),
    "conflicting-l7-parsers-ref-2.6": (
        "egress:\n- toEndpoints: [{}]\n  toPorts: [{ports: [{port: '53', protocol: TCP}], rules: {dns: [{matchPattern: '*'}]}}]"
        "\n- toEndpoints: [{}]\n  toPorts: [{ports: [{port: '53', protocol: TCP}], rules: {http: [{}]}}]",
        "cannot merge conflicting L7 parsers",
        "",
    ),
    "sni-with-http-no-tls-ref-1.8": (
        "ingress:\n- toPorts: [{ports: [{port: '443', protocol: TCP}], serverNames: [a.com], rules: {http: [{}]}}]",
        "ServerNames are not allowed with L7 rules without TLS termination",
        "",
    ),
    "bad-http-regex-ref-2.7": (
        "ingress:\n- toPorts: [{ports: [{port: '80', protocol: TCP}], rules: {http: [{path: '/a(['}]}}]",
        "invalid regular expression",
        "",
    ),
    "bad-fqdn-ref-1.7": ("egress:\n- toFQDNs: [{matchName: 'a b.com'}]", "invalid matchName", ""),
    "fqdn-name-and-pattern-ref-1.7": (
        "egress:\n- toFQDNs: [{matchName: a.com, matchPattern: '*.a.com'}]",
        "exactly one of matchName or matchPattern",
        "",
    ),
    "port-missing-ref-1.8": (
        "ingress:\n- toPorts: [{ports: [{protocol: TCP}]}]",
        "Port must be specified",
        "",
    ),
    "services-with-ports-ref-1.6": (
        "egress:\n- toServices: [{k8sService: {serviceName: s}}]\n  toPorts: [{ports: [{port: '80'}]}]",
        "Combining ToServices and ToPorts",
        "",
    ),
    "nodes-need-option-ref-1.3": ("egress:\n- toNodes: [{}]", "enable-node-selector-labels", ""),
    "listener-on-ingress-ref-1.8": (
        "ingress:\n- toPorts: [{ports: [{port: '80', protocol: TCP}], listener: {envoyConfig: {name: x}, name: l}}]",
        "Listener is not allowed on ingress",
        "",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_cilium_rejects(case):
    body, message, hint = CASES[case]
    errs = errors(rule(body))
    assert errs, f"{case}: accepted"
    assert any(message in e.message for e in errs), [e.render() for e in errs]
    e = next(e for e in errs if message in e.message)
    assert e.file == "p.yaml" and e.line > 0 and e.obj == "CiliumNetworkPolicy default/p"
    if hint:
        assert hint in e.hint
    assert all(e.hint for e in errs), [e.render() for e in errs if not e.hint]  # what to do


def test_empty_policy_without_spec():
    text = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: p\n"
    assert "empty policy" in errors(text)[0].message


def test_node_selector_only_in_ccnp():
    text = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: p\nspec:\n  nodeSelector: {}\n  ingress: [{}]\n"
    assert any("rule cannot have NodeSelector" in e.message for e in errors(text))


def test_all_errors_of_an_object_are_reported_together():
    errs = errors(
        rule(
            "ingress:\n- fromEndpoints: [{}]\n  fromCIDR: [10.0.0.0/8]\negress:\n- toEntities: [nope]"
        )
    )
    assert len(errs) == 2


@pytest.mark.parametrize(
    "body",
    [
        "ingress: [{}]\negress: [{}]",
        "ingress:\n- fromEntities: [all]\n  toPorts: [{ports: [{port: '80', endPort: 90, protocol: TCP}]}]",
        "egress:\n- toEndpoints: [{matchLabels: {k8s-app: kube-dns, io.kubernetes.pod.namespace: kube-system}}]\n  toPorts: [{ports: [{port: '53', protocol: ANY}], rules: {dns: [{matchPattern: '*'}]}}]",
        "egress:\n- toFQDNs: [{matchPattern: '**.cilium.io'}]\n  toPorts: [{ports: [{port: '443', protocol: TCP}]}]",
        "ingress:\n- toPorts: [{ports: [{port: '443', protocol: TCP}], serverNames: ['*.a.com']}]",
        "ingressDeny:\n- fromCIDRSet: [{cidr: 10.0.0.0/8, except: [10.1.0.0/16]}]",
        "ingress:\n- fromEndpoints: [{}]\n  toPorts: [{ports: [{port: '80', protocol: TCP}], rules: {http: [{method: GET}]}}]"
        "\n- fromEndpoints: [{}]\n  toPorts: [{ports: [{port: '80', protocol: TCP}], rules: {http: [{path: /a}]}}]",
        "egress:\n- toEndpoints: [{}]\n  toPorts: [{ports: [{port: '53', protocol: UDP}], rules: {dns: [{matchPattern: '*'}]}}]"
        "\n- toEndpoints: [{}]\n  toPorts: [{ports: [{port: '53', protocol: TCP}], rules: {http: [{}]}}]",
    ],
    ids=[
        "default-deny",
        "port-range",
        "dns-rule",
        "fqdn",
        "sni",
        "deny-cidr",
        "same-l7-parser-merges-ref-2.6",
        "parsers-on-different-protocols-ref-2.6",
    ],
)
def test_valid_policies_pass(body):
    assert errors(rule(body)) == []


def test_knp_rules():
    text = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n}\nspec:\n  podSelector: {}\n  ingress:\n  - ports: [{port: http, endPort: 90}]\n    from: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]\n"
    errs = errors(text)
    msgs = [e.message for e in errs]
    assert any("endPort may only be specified with a numeric port" in m for m in msgs)
    assert any("may not specify more than 1 peer type" in m for m in msgs)
    assert all(e.hint for e in errs)


def test_the_guides_policies_fail_exactly_where_cilium_fails_ref_7():
    """The seed directory as written: default-deny-all (unknown field) and mtls-required-policy
    (fromRequires) are refused; everything else passes."""
    from tests.conftest import EXAMPLES

    bad: set[str] = set()
    for f in sorted((EXAMPLES / "seed").rglob("*.yaml")):
        res, diags = load_text(f.read_text(), f.name)
        bad |= {d.obj for d in [*diags, *validate_all(res)] if d.severity is Severity.ERROR}
    assert bad == {
        "CiliumNetworkPolicy default/default-deny-all",
        "CiliumNetworkPolicy default/mtls-required-policy",
    }
