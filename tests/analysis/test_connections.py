"""The streamed list (``connections``) is ``Analyzer.pair`` over every pair of ends.

``connections`` unrolls ``Analyzer.pair`` for one-class ends and visits, per source, only the
destinations whose ingress can admit it (a destination closed by default admits the identities
its table names).  Neither shortcut may change a line: the list must equal the plain loop over
every ordered pair, allowed connections only, in (source, destination) label order — ref §2.4
(both ends enforce), on meshes with CNP/CCNP/KNP, deny rules, several clusters and L7.
"""

from __future__ import annotations

import pytest
from bench.synth import SynthParams, generate

from cmesh.analysis import Analyzer, connections
from cmesh.analysis.connectivity import list_ends
from cmesh.analysis.sources import from_mesh_file
from cmesh.datapath import Mesh
from tests.conftest import EXAMPLES


def plain(mesh: Mesh) -> list[tuple[str, str, str, tuple[str, ...]]]:
    an = Analyzer(mesh)
    ends = list_ends(mesh)
    out = []
    for src in ends:
        for dst in ends:
            if src is dst or (src.external and dst.external):
                continue
            if (src.external or dst.external) and src.cluster != dst.cluster:
                continue
            c = an.pair(src, dst)
            if c.ports:
                out.append((src.label, dst.label, str(c.ports), tuple(map(str, c.l7))))
    return out


def streamed(mesh: Mesh) -> list[tuple[str, str, str, tuple[str, ...]]]:
    return [
        (c.src.label, c.dst.label, str(c.ports), tuple(map(str, c.l7))) for c in connections(mesh)
    ]


@pytest.mark.parametrize(
    "params",
    [
        SynthParams(pods=120, identities=30, policies=40, clusters=2, seed=1),
        SynthParams(pods=120, identities=30, policies=40, clusters=1, seed=2, deny_share=0.4),
        SynthParams(pods=160, identities=40, policies=60, clusters=1, seed=3, knp_only=True),
        SynthParams(pods=120, identities=30, policies=10, clusters=3, seed=4),
    ],
    ids=["cnp-2-clusters", "deny-heavy", "knp-only", "few-policies-3-clusters"],
)
def test_streamed_list_is_every_pair_decided_ref_2_4(params: SynthParams) -> None:
    mesh = generate(params).mesh()
    want = plain(mesh)
    assert want  # the mesh allows something, so the comparison says something
    assert streamed(mesh) == want


def test_guide_mesh_streamed_list_is_every_pair_decided_ref_2_4() -> None:
    mesh = from_mesh_file(EXAMPLES / "guide-mesh.yaml").mesh
    assert streamed(mesh) == plain(mesh)
