"""The connectivity list agrees with ``decide`` — the one verdict — on sampled probes.

The list folds each side's MapState keys over port ranges instead of probing ports
(``cmesh.analysis.sides``).  Every sampled pair of ends is probed at the edges of each port range
(and a few usual ports) through ``cmesh.datapath.decide`` — source egress then destination
ingress (ref §2.4, §9 step 5) — and the two must agree on allowed/dropped and on where L7 rules
apply (ref §2.6).  Meshes: the guide's two clusters, every scenario file, and synthetic meshes
with CNP/CCNP/KNP, deny rules, CIDR with except, named ports and L7 (``bench/synth.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from bench.synth import SynthParams, generate

from cmesh.analysis.connectivity import list_ends
from cmesh.analysis.sources import from_mesh_file
from tests.analysis.probes import disagreements
from tests.conftest import EXAMPLES, pods_yaml
from tests.scenarios.test_scenarios import FILES, build


def test_guide_mesh_list_agrees_with_decide_ref_2_4_2_5_2_6():
    mesh = from_mesh_file(EXAMPLES / "guide-mesh.yaml").mesh
    ends = list_ends(mesh)
    assert list(disagreements(mesh, ends, pairs=10_000)) == []


@pytest.mark.parametrize("path", FILES, ids=[f"{f.parent.name}/{f.stem}" for f in FILES])
def test_scenario_meshes_list_agrees_with_decide(path: Path):
    mesh = build(yaml.safe_load(path.read_text()))
    assert list(disagreements(mesh, list_ends(mesh), pairs=2_000)) == []


@pytest.mark.parametrize(
    "params",
    [
        SynthParams(pods=120, identities=30, policies=40, clusters=2, seed=1),
        SynthParams(pods=120, identities=30, policies=40, clusters=1, seed=2, deny_share=0.4),
        SynthParams(pods=100, identities=25, policies=30, clusters=1, seed=3, knp_only=True),
    ],
    ids=["cnp-2-clusters", "deny-heavy", "knp-only"],
)
def test_synthetic_meshes_list_agrees_with_decide(params: SynthParams):
    mesh = generate(params).mesh()
    ends = list_ends(mesh)
    assert list(disagreements(mesh, ends, pairs=600, seed=params.seed)) == []


AUDITED = (
    pods_yaml("a", "b", "c")
    + """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: b-from-a
  namespace: default
  annotations: {policy.cilium.io/audit-mode: "true"}
spec:
  endpointSelector: {matchLabels: {app: b}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: a}}]
    toPorts: [{ports: [{port: "80", protocol: TCP}]}]
  egressDeny:
  - toEndpoints: [{matchLabels: {app: c}}]
"""
)


def test_what_only_an_audited_policy_would_drop_is_listed_ref_2_12(tmp_path: Path):
    """A per-policy audited rule reports what it would drop (AUDIT) and lets it pass
    (ref §2.12): its default deny and its deny are not in the list, as decide says."""
    from cmesh.analysis.connectivity import connections
    from cmesh.analysis.sources import load

    (tmp_path / "m.yaml").write_text(AUDITED)
    mesh = load(str(tmp_path), None).mesh
    rows = {(c.src.label, c.dst.label): str(c.ports) for c in connections(mesh)}
    assert rows[("default/c[Pod]", "default/b[Pod]")] == "All Connections"
    assert rows[("default/b[Pod]", "default/c[Pod]")] == "All Connections"
    assert list(disagreements(mesh, list_ends(mesh), pairs=1_000)) == []
