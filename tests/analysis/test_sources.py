"""Mesh files and manifests as analysis inputs: a full description, or manifests alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmesh.analysis.connectivity import connections
from cmesh.analysis.sources import from_mesh_file, is_mesh_file, load
from cmesh.errors import InvalidArgument, InvalidInput, InvalidPolicy
from tests.conftest import EXAMPLES, pods_yaml

NP = (
    pods_yaml("a")
    + """\
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: default, labels: {app: b}}
spec: {containers: [{name: c, image: x, ports: [{name: web, containerPort: 8080}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: b-from-a, namespace: default}
spec:
  podSelector: {matchLabels: {app: b}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: a}}}]
    ports: [{port: web}]
"""
)


def test_manifests_alone_are_one_cluster_ref_2_13(tmp_path: Path):
    (tmp_path / "np.yaml").write_text(NP)
    assert not is_mesh_file(tmp_path)
    lm = load(str(tmp_path), None)
    rows = {(c.src.label, c.dst.label): str(c.ports) for c in connections(lm.mesh)}
    # a named port of a NetworkPolicy resolves against the pod's container port (ref §2.13)
    assert rows[("default/a[Pod]", "default/b[Pod]")] == "TCP 8080"
    assert ("world[Entity]", "default/b[Pod]") not in rows
    assert rows[("world[Entity]", "default/a[Pod]")] == "All Connections"


def test_mesh_file_is_recognised_and_connected():
    assert is_mesh_file(EXAMPLES / "guide-mesh.yaml")
    lm = from_mesh_file(EXAMPLES / "guide-mesh.yaml")
    assert sorted(lm.mesh.views) == ["cluster-1", "cluster-2"]
    assert lm.mesh.peers_of("cluster-1") == {"cluster-2"}
    assert ("kube-system", "kube-dns") in lm.mesh.views["cluster-2"].lb  # bootstrap objects


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("clusters: [{name: a, settings: {bogus: 1}}]", "unknown setting 'bogus'"),
        ("clusters: [{name: a}]\nconnected: [[a, b]]", "must name two of a"),
        ("clusters: []", "`clusters` must be a non-empty list"),
        (
            'clusters: [{name: a, settings: {policy-audit-mode: "false"}}]',
            r"clusters\[0\].settings.policy-audit-mode: expected true, false, got 'false'",
        ),
        (
            "clusters: [{name: a, settings: {policy-enforcement: strict}}]",
            "expected default, always, never, got 'strict'",
        ),
        ("clusters: [{name: a, id: one}]", r"clusters\[0\].id: expected a number, got 'one'"),
        (
            "clusters: [{name: a, settings: {policy-audit-mode: 1}}]",
            r"policy-audit-mode: expected true, false, got 1",
        ),
        ("clusters: [{name: a, manifests: [{x: 1}]}]", r"manifests\[0\]: expected a string"),
        ("clusters: [{name: a, bootstrap: no-thanks}]", "bootstrap: expected true or false"),
        ("clusters: [{name: a, team: x}]", r"clusters\[0\]: unknown field\(s\) team"),
        ("clusters: [{name: a}]\nconnected: [a, a]", r"connected\[0\]: 'a' must name two of a"),
        ("clusters: [{name: a}]\nconnected: true", "connected: expected a list, got true/false"),
        ("clusters: [{name: a}]\ndns: {x.com: 300.1.1.1}", "dns.x.com: expected IPv4 addresses"),
        ("clusters: [{name: a}]\ndns: [x.com]", "dns: expected a mapping of name to address"),
        ("clusters: {name: a}", "clusters: expected a list, got a mapping"),
        ("- clusters: []", "expected a mesh file \\(a mapping\\), got a list"),
    ],
    ids=[
        "setting",
        "connected",
        "empty",
        "quoted-bool",
        "enforcement",
        "id",
        "number-bool",
        "manifests",
        "bootstrap",
        "cluster-field",
        "connected-pair",
        "connected-type",
        "dns-address",
        "dns-type",
        "clusters-type",
        "document-type",
    ],
)
def test_mesh_file_errors(tmp_path: Path, text: str, message: str):
    """Every mesh-file error names file:line and the field, and says what to write instead
    (several of these were tracebacks or passed through unchecked)."""
    f = tmp_path / "m.yaml"
    f.write_text(text)
    with pytest.raises(InvalidArgument, match=message) as info:
        from_mesh_file(f)
    assert info.value.render().startswith(f"{f}:")
    assert "hint: " in info.value.render()


def test_mesh_file_error_lines_point_at_the_field(tmp_path: Path):
    f = tmp_path / "m.yaml"
    f.write_text("clusters:\n- name: a\n  id: 1\n- name: b\n  id: 2\n  nodes: many\n")
    with pytest.raises(InvalidArgument) as info:
        from_mesh_file(f)
    assert info.value.render().startswith(f"{f}:6: clusters[1].nodes: expected a number")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("clusters: [{name: a, id: 1}, {name: a, id: 2}]", "cluster name 'a' is used twice"),
        ("clusters: [{name: a, id: 1}, {name: b, id: 1}]", "cluster id 1 is already used"),
        ("clusters: [{name: a, id: 300}]", "cluster id 300 is out of range"),
    ],
    ids=["name", "id", "id-range"],
)
def test_mesh_file_clusters_follow_the_install_rules_ref_3_2(
    tmp_path: Path, text: str, message: str
):
    """Cluster names and ids are unique across the mesh, ids within range (ref §3.2), as
    ``cmesh install`` requires; the error names the mesh file's cluster."""
    f = tmp_path / "m.yaml"
    f.write_text(text)
    with pytest.raises(InvalidInput, match=message) as info:
        from_mesh_file(f)
    assert info.value.render().startswith(f"{f}:1: clusters[")


def test_invalid_policy_is_reported_before_analysis(tmp_path: Path):
    (tmp_path / "bad.yaml").write_text(
        (EXAMPLES / "seed" / "policies" / "mtls-required-policy.yaml").read_text()
    )
    with pytest.raises(InvalidPolicy):
        load(str(tmp_path), None)


FQDN = (
    pods_yaml("a")
    + """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: fq, namespace: default}
spec:
  endpointSelector: {matchLabels: {app: a}}
  egress:
  - toFQDNs: [{matchName: api.example.com}, {matchPattern: "*.github.com"}]
    toPorts: [{ports: [{port: "443", protocol: TCP}]}]
"""
)


def test_fqdn_selectors_are_ends_ref_1_7(tmp_path: Path):
    from cmesh.analysis.connectivity import list_ends
    from tests.analysis.probes import disagreements

    (tmp_path / "fq.yaml").write_text(FQDN)
    mesh = load(str(tmp_path), None).mesh
    rows = {(c.src.label, c.dst.label): str(c.ports) for c in connections(mesh)}
    assert rows[("default/a[Pod]", "api.example.com[FQDN]")] == "TCP 443"
    assert rows[("default/a[Pod]", "*.github.com[FQDN]")] == "TCP 443"
    assert ("default/a[Pod]", "world[Entity]") not in rows  # toFQDNs turns egress default deny
    assert list(disagreements(mesh, list_ends(mesh))) == []


NAMED = (
    pods_yaml("a")
    + """\
apiVersion: v1
kind: Pod
metadata: {name: b1, namespace: default, labels: {app: b}}
spec: {containers: [{name: c, image: x, ports: [{name: web, containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: b2, namespace: default, labels: {app: b}}
spec: {containers: [{name: c, image: x, ports: [{name: web, containerPort: 9090}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: b-web, namespace: default}
spec:
  podSelector: {matchLabels: {app: b}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: a}}}]
    ports: [{port: web}]
"""
)


def test_named_ports_resolve_per_pod_not_per_identity_ref_1_8(tmp_path: Path):
    from cmesh.analysis.connectivity import list_ends
    from tests.analysis.probes import disagreements

    (tmp_path / "np.yaml").write_text(NAMED)
    mesh = load(str(tmp_path), None).mesh
    rows = {(c.src.label, c.dst.label): str(c.ports) for c in connections(mesh, pods=True)}
    assert rows[("default/a[Pod]", "default/b1[Pod]")] == "TCP 8080"
    assert rows[("default/a[Pod]", "default/b2[Pod]")] == "TCP 9090"
    assert list(disagreements(mesh, list_ends(mesh, pods=True))) == []


def test_fqdn_ends_are_named_the_same_on_every_listing_ref_1_7(tmp_path: Path):
    """Listing a mesh twice learns nothing more and names the same FQDN ends, each by the
    selector its address was learned for (the pattern also selects api.example.com)."""
    (tmp_path / "fq.yaml").write_text(FQDN.replace('"*.github.com"', '"*.example.com"'))
    mesh = load(str(tmp_path), None).mesh

    def rows() -> dict[tuple[str, str], str]:
        return {(c.src.label, c.dst.label): str(c.ports) for c in connections(mesh)}

    first = rows()
    identities = len(mesh.views["default"].engine.cache.identities)
    assert rows() == first
    assert len(mesh.views["default"].engine.cache.identities) == identities
    fqdn_ends = sorted({d for _, d in first if d.endswith("[FQDN]")})
    assert fqdn_ends == ["*.example.com[FQDN]", "api.example.com[FQDN]"]


def test_manifests_named_mesh_yaml_are_manifests(tmp_path: Path):
    """A folder whose manifests file is called mesh.yaml is still manifests; the decision is
    made on the first document, so a later broken one is reported by the manifest loader, with
    its line, not hidden by the mesh-file sniff."""
    (tmp_path / "mesh.yaml").write_text(NP)
    assert not is_mesh_file(tmp_path)
    lm = load(str(tmp_path), None)
    assert any(c.dst.label == "default/b[Pod]" for c in connections(lm.mesh))
    (tmp_path / "mesh.yaml").write_text(NP + "---\nkind: [unclosed\n")
    assert not is_mesh_file(tmp_path)
    with pytest.raises(InvalidInput, match=r"mesh\.yaml:\d+:"):
        load(str(tmp_path), None)


def test_mesh_file_followed_by_a_second_document_is_not_a_mesh_file(tmp_path: Path):
    text = (EXAMPLES / "guide-mesh.yaml").read_text()
    (tmp_path / "mesh.yaml").write_text(text)
    assert is_mesh_file(tmp_path)
    (tmp_path / "mesh.yaml").write_text(text + "\n---\nclusters: []\n")
    assert not is_mesh_file(tmp_path)


def test_manifest_policies_are_loaded_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The view takes the policies the analysis already loaded (the same data as the planned
    objects) instead of loading them again from their stored copies; the list is the same."""
    import cmesh.model as model

    (tmp_path / "np.yaml").write_text(NP)
    before = sorted(str(c) for c in connections(load(str(tmp_path), None).mesh))

    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("a policy of the manifests was loaded a second time")

    monkeypatch.setattr(model, "from_stored", refuse)
    assert sorted(str(c) for c in connections(load(str(tmp_path), None).mesh)) == before
    lm = from_mesh_file(EXAMPLES / "guide-mesh.yaml")
    assert lm.mesh.views["cluster-1"].policies  # every policy came from the mesh file's manifests
