"""Typed resources from manifests, with errors that say what, where and what to do."""

import json

import pytest

from cmesh.errors import InvalidManifest, Severity
from cmesh.model import from_stored, load_text

CNP = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: p
spec:
  endpointSelector:
    matchLabels:
      app: web
  ingress:
  - toPorts:
    - ports:
      - port: "{port}"
        protocol: TCP
"""


def errors(diags):
    return [d for d in diags if d.severity is Severity.ERROR]


def test_policy_loads_typed_with_namespace_default():
    res, diags = load_text(CNP.format(port=80), "p.yaml")
    assert not diags
    (r,) = res
    assert r.key == ("CiliumNetworkPolicy", "default", "p")
    assert r.obj.rules[0].ingress[0].to_ports[0].ports[0].port == "80"


def test_wrong_type_names_file_line_and_field_path():
    text = CNP.format(port=80).replace("app: web", "app: 5")
    _, diags = load_text(text, "policies.yaml")
    (d,) = errors(diags)
    assert d.render().startswith(
        "policies.yaml:8: CiliumNetworkPolicy default/p: spec.endpointSelector.matchLabels.app: "
        "expected a string, got 5 (int)"
    )
    assert d.hint == 'quote the value: "5"'


def test_bad_port_is_located():
    _, diags = load_text(CNP.format(port="eigh ty"), "policies.yaml")
    (d,) = errors(diags)
    assert d.line == 12
    assert d.path == "spec.ingress[0].toPorts[0].ports[0].port"
    assert "expected a port number (0-65535) or a port name" in d.message


def test_missing_required_field():
    text = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: np\nspec:\n  policyTypes: [Ingress]\n"
    _, diags = load_text(text, "np.yaml")
    (d,) = errors(diags)
    assert d.path == "spec.podSelector"
    assert d.message == "required field is missing"
    assert d.line == 5


def test_missing_name():
    _, diags = load_text("apiVersion: v1\nkind: Pod\nmetadata: {}\n", "p.yaml")
    (d,) = errors(diags)
    assert d.path == "metadata.name" and "missing" in d.message


def test_unknown_kind_is_skipped_with_a_warning_naming_it():
    res, diags = load_text(
        "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: x}\n",
        "r.yaml",
    )
    assert res == []
    (d,) = diags
    assert d.severity is Severity.WARNING
    assert "PrometheusRule" in d.message


def test_unknown_field_in_policy_is_an_error_by_default_and_warn_downgrades_it():
    text = CNP.format(port=80) + "  policyEnforcement: always\n"
    res, diags = load_text(text, "p.yaml")
    (d,) = errors(diags)
    assert d.path == "spec.policyEnforcement" and d.line == 14
    assert "enableDefaultDeny" in d.hint and "policy-enforcement always" in d.hint
    res, diags = load_text(text, "p.yaml", unknown="warn")
    assert [x.severity for x in diags] == [Severity.WARNING]
    # the stored object is pruned, as a structural CRD schema prunes it
    assert "policyEnforcement" not in res[0].raw["spec"]


def test_typo_in_policy_field_suggests_the_right_name():
    text = CNP.format(port=80).replace("toPorts", "toPort")
    _, diags = load_text(text, "p.yaml")
    assert any("did you mean 'toPorts'" in d.hint for d in diags)


def test_namespace_flag_conflict_like_kubectl():
    text = CNP.format(port=80).replace("  name: p\n", "  name: p\n  namespace: prod\n")
    _, diags = load_text(text, "p.yaml", namespace="dev")
    assert "does not match" in errors(diags)[0].message


def test_kubectl_get_json_list_loads_unchanged():
    dump = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": "web-7d4b9c8f6d-x2x7k",
                    "namespace": "shop",
                    "labels": {"app": "web", "pod-template-hash": "7d4b9c8f6d"},
                    "managedFields": [
                        {"manager": "kube-controller-manager", "operation": "Update"}
                    ],
                    "ownerReferences": [
                        {
                            "apiVersion": "apps/v1",
                            "kind": "ReplicaSet",
                            "name": "web-7d4b9c8f6d",
                            "uid": "u",
                            "controller": True,
                        }
                    ],
                    "resourceVersion": "123",
                    "uid": "abc",
                },
                "spec": {
                    "nodeName": "n1",
                    "containers": [
                        {
                            "name": "c",
                            "image": "i",
                            "ports": [{"containerPort": 80, "name": "http", "protocol": "TCP"}],
                        }
                    ],
                },
                "status": {
                    "phase": "Running",
                    "podIP": "10.1.2.3",
                    "conditions": [{"type": "Ready", "status": "True"}],
                },
            }
        ],
        "metadata": {"resourceVersion": ""},
    }
    res, diags = load_text(json.dumps(dump, indent=4), "dump.json")
    assert not diags
    assert res[0].raw["status"]["podIP"] == "10.1.2.3"


POD_PORTS = "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec: {{containers: [{{name: c, ports: [{ports}]}}]}}\n"
SVC_EXT = "apiVersion: v1\nkind: Service\nmetadata: {{name: s}}\nspec: {{type: ExternalName, externalName: {name}}}\n"
SVC = "apiVersion: v1\nkind: Service\nmetadata: {{name: s}}\nspec: {{ports: [{{port: 80, targetPort: {target}}}]}}\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("apiVersion: v1\nkind: Pod\n", "required field is missing"),
        (
            "apiVersion: cilium.io/v1\nkind: CiliumNetworkPolicy\nmetadata: {name: a}\n",
            "is not served",
        ),
        ("- a\n- b\n", "expected a Kubernetes object"),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: Bad_Name}\n", "invalid name"),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a, labels: {app: 'x y'}}\n",
            "invalid label value",
        ),
        (SVC.format(target="99999"), "targetPort: 99999: must be between 1 and 65535"),
        (SVC.format(target="0"), "targetPort: 0: must be between 1 and 65535"),
        (SVC.format(target="'8080'"), "targetPort: '8080': must be a number 1-65535 or a port"),
        (SVC.format(target="Web_UI"), "targetPort: 'Web_UI': must be a number 1-65535"),
        (SVC.format(target="80, nodePort: 70000"), "nodePort: value too large, got 70000"),
        (SVC.format(target="80}], clusterIP: 300.1.1.1, ports: [{port: 80"), "must be a valid IP"),
        (SVC_EXT.format(name="'..'"), "spec.externalName: invalid value '..'"),
        (SVC_EXT.format(name="Api.Example.com"), "must be a lowercase DNS name"),
        (
            SVC.format(target="80, name: a}, {port: 81, name: a"),
            "spec.ports[1].name: duplicate value 'a'",
        ),
        (SVC.format(target="80, name: Web"), "spec.ports[0].name: invalid value 'Web'"),
        (
            SVC.format(target="80, name: a}, {port: 80, name: b"),
            "spec.ports[1]: duplicate value: port 80/TCP is given twice",
        ),
        (
            SVC.format(target="80}], selector: {'a b': x}, ports: [{port: 80"),
            "spec.selector.a b: invalid label key",
        ),
        (POD_PORTS.format(ports="{name: Web, containerPort: 80}"), "'Web': a port name is"),
        (POD_PORTS.format(ports="{name: '8080', containerPort: 80}"), "'8080': a port name is"),
        (
            POD_PORTS.format(ports="{name: serve-80-tcp-long, containerPort: 80}"),
            "a port name is at most 15",
        ),
        (
            POD_PORTS.format(
                ports="{name: web, containerPort: 80}, {name: web, containerPort: 81}"
            ),
            "spec.containers[0].ports: port name(s) 'web' given twice",
        ),
    ],
    ids=[
        "no-metadata",
        "wrong-api-version",
        "not-a-mapping",
        "bad-name",
        "bad-label",
        "target-port-range",
        "target-port-zero",
        "target-port-quoted-number",
        "target-port-name",
        "node-port-range",
        "cluster-ip",
        "external-name",
        "external-name-case",
        "port-name-twice",
        "port-name-invalid",
        "port-twice",
        "selector-key",
        "container-port-name-case",
        "container-port-name-number",
        "container-port-name-long",
        "container-port-name-twice",
    ],
)
def test_structural_errors(text, message):
    """Services are checked as the API server's ValidateService checks them (ports, names,
    ClusterIP, ExternalName, selector): such a Service was accepted and load-balanced to an
    address or port that cannot exist."""
    _, diags = load_text(text, "x.yaml")
    assert any(message in d.render() for d in errors(diags)), [d.render() for d in diags]


def test_every_error_of_a_document_is_reported_at_once():
    text = CNP.format(port="eigh ty").replace("app: web", "app: 5")
    _, diags = load_text(text, "p.yaml")
    assert len(errors(diags)) == 2


def test_a_stored_object_that_no_longer_loads_says_where_and_what_to_do():
    """Objects are re-typed from the store; one that checks now reject is the user's to fix."""
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "d"},
        "spec": {"containers": [{"name": "c", "ports": [{"containerPort": "x"}]}]},
    }
    lines = {"spec.containers[0].ports[0].containerPort": 12}
    with pytest.raises(InvalidManifest) as err:
        from_stored(pod, "pods.yaml:7", lines)
    text = err.value.render()
    assert "pods.yaml:12: Pod d/p: spec.containers[0].ports[0].containerPort:" in text
    assert "apply it again, or delete it" in text


def test_a_multi_port_service_without_names_is_a_warning():
    """The API server refuses it, but policy does not depend on it and hand-written analysis
    inputs (netpol-analyzer's) leave the names out: loaded, with a warning per port."""
    res, diags = load_text(SVC.format(target="80}, {port: 81"), "x.yaml")
    assert len(res) == 1 and not errors(diags)
    assert [d.path for d in diags] == ["spec.ports[0].name", "spec.ports[1].name"]
    assert all("the API server would refuse this Service" in d.message for d in diags)


def test_the_same_port_name_in_two_containers_is_allowed():
    """Kubernetes checks port names per container (validateContainerPorts)."""
    text = POD_PORTS.format(ports="{name: serve-80-tcp, containerPort: 80}").replace(
        "]}]}", "]}, {name: d, ports: [{name: serve-80-tcp, containerPort: 81}]}]}"
    )
    res, diags = load_text(text, "x.yaml")
    assert len(res) == 1 and not errors(diags)
