"""The compiled segment tables answer exactly what the engine answers (no second evaluator).

Each row's segments are labelled by the engine's own lookup; these tests would fail the day the
tables and :meth:`PolicyEngine.decide` / :func:`cmesh.datapath.decide` disagree — on the guide's
clusters under a policy set with explicit denies, port ranges, L7, CIDR and entities
(ref §2.5 deny precedence, §2.6 L3/L4/L7 merge, §1.5 CIDR, §1.4 entities).
"""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from cmesh.datapath import Peer, PeerKind, decide, load_mesh
from cmesh.policy import Direction, Protocol
from cmesh.registry import Home
from cmesh.replay import SideTables
from cmesh.replay.tables import DIRECTIONS, ENGINE_PROTOCOLS

POLICIES = """
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: payment-in, namespace: default}
spec:
  endpointSelector: {matchLabels: {app: payment}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: frontend}}]
    toPorts:
    - ports: [{port: "8080", protocol: TCP}]
      rules: {http: [{method: GET, path: "/health"}]}
  - fromEndpoints: [{matchLabels: {app: frontend, io.cilium.k8s.policy.cluster: cluster-2}}]
    toPorts: [{ports: [{port: "8000", endPort: 8100, protocol: TCP}]}]
  ingressDeny:
  - fromEndpoints: [{matchLabels: {app: api}}]
    toPorts: [{ports: [{port: "8080", protocol: TCP}]}]
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: frontend-out, namespace: default}
spec:
  endpointSelector: {matchLabels: {app: frontend}}
  egress:
  - toEndpoints: [{matchLabels: {app: payment, io.cilium.k8s.policy.cluster: cluster-2}}]
  - toCIDR: [93.184.216.0/24]
    toPorts: [{ports: [{port: "443", protocol: TCP}, {port: "80", protocol: TCP}]}]
  - toEntities: [kube-apiserver, host]
  - toEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns}}]
    toPorts:
    - ports: [{port: "53", protocol: ANY}]
      rules: {dns: [{matchPattern: "*"}]}
  egressDeny:
  - toEndpoints: [{matchLabels: {app: database}}]
"""


@pytest.fixture(scope="module")
def mesh(guide, tmp_path_factory):
    g = guide.copy(tmp_path_factory.mktemp("tables"))
    p = g.cmesh.home.parent / "policies.yaml"
    p.write_text(POLICIES)
    for ctx in ("cluster-1", "cluster-2"):
        g.cmesh("apply", "-f", str(p), "--context", ctx)
    home = Home.open(g.cmesh.home)
    try:
        yield load_mesh(home)
    finally:
        home.close()


def _same(a, b) -> bool:
    return (a.verdict, a.drop_reason, a.allowed_by, a.denied_by, a.l7, a.match_type) == (
        b.verdict,
        b.drop_reason,
        b.allowed_by,
        b.denied_by,
        b.l7,
        b.match_type,
    )


def test_tables_agree_with_engine_decide_on_every_identity_pair(mesh):
    rng = random.Random(0)
    tables = SideTables(mesh)
    names = sorted(mesh.views)
    rows = []
    for ci, name in enumerate(names):
        engine = mesh.views[name].engine
        idents = sorted(engine.cache.identities)
        for subj in sorted(engine.local):
            for peer, d, proto in itertools.product([*idents, 0x3FFFFFE], (1, 2), (1, 2, 4)):
                for port in (
                    0,
                    53,
                    80,
                    443,
                    5432,
                    8000,
                    8080,
                    8100,
                    8101,
                    65535,
                    rng.randrange(65536),
                ):
                    rows.append((ci, d, subj, peer, proto, port))
    arr = np.asarray(rows, dtype=np.int64)
    idx = tables.evaluate(*(np.ascontiguousarray(arr[:, i]) for i in range(6)))
    bad = []
    for (ci, d, subj, peer, proto, port), i in zip(rows, idx.tolist(), strict=True):
        want = mesh.views[names[ci]].engine.decide(
            DIRECTIONS[d], subj, peer, ENGINE_PROTOCOLS[proto], port
        )
        if not _same(tables.decisions[i], want):
            bad.append((names[ci], d, subj, peer, proto, port))
    assert len(rows) > 10_000
    assert not bad, bad[:5]


def test_tables_agree_with_the_datapath_verdict_for_pod_pairs_ref_2_4(mesh):
    """Both directions through the tables give the flow verdict ``cmesh.datapath.decide`` gives."""
    tables = SideTables(mesh)
    pods = [ep for v in mesh.views.values() for ep in v.endpoints.values()]
    checked = 0
    for a, b in itertools.product(pods, pods):
        if a is b:
            continue
        src = Peer(PeerKind.POD, a.ip, a.cluster, endpoint=a)
        dst = Peer(PeerKind.POD, b.ip, b.cluster, endpoint=b)
        for port in (53, 8080, 8050, 5432):
            fv = decide(mesh, src, dst, Protocol.TCP, port, explain=False)
            eg_peer = mesh.identity_seen_by(a.cluster, a.node, dst)[0]
            in_peer = mesh.identity_seen_by(b.cluster, b.node, src)[0]
            eg = tables.decide(a.cluster, 1, a.identity, eg_peer, 1, port)
            ing = tables.decide(b.cluster, 2, b.identity, in_peer, 1, port)
            assert fv.egress is not None and fv.ingress is not None
            assert _same(eg, fv.egress.decision) and _same(ing, fv.ingress.decision)
            dropped = eg.dropped or ing.dropped
            assert dropped == (fv.verdict.name == "DROPPED")
            checked += 1
    assert checked > 500


def test_the_policy_set_exercises_every_verdict(mesh):
    """Guard: the differential tests above are only worth something if verdicts vary."""
    tables = SideTables(mesh)
    c1 = mesh.views["cluster-1"]
    seen = set()
    for subj in c1.engine.local:
        for peer in list(c1.engine.cache.identities)[:40]:
            for d in (Direction.EGRESS, Direction.INGRESS):
                code = 1 if d is Direction.EGRESS else 2
                for port in (53, 80, 8080, 8050):
                    seen.add(tables.decide("cluster-1", code, subj, peer, 1, port).verdict.name)
    assert {"FORWARDED", "REDIRECTED", "DROPPED"} <= seen


def test_large_maps_agree_too(guide, tmp_path_factory):
    """Rows with more than DIRECT_ENTRIES entries are labelled by the engine's decide_entries
    given the covering entries; they must still answer what PolicyEngine.decide answers."""
    from cmesh.replay.tables import DIRECT_ENTRIES

    g = guide.copy(tmp_path_factory.mktemp("large"))
    ports = list(range(9000, 9000 + 4 * DIRECT_ENTRIES, 2))
    rules = "".join(
        "    - ports: ["
        + ", ".join(f'{{port: "{p}", protocol: TCP}}' for p in ports[i : i + 40])
        + "]\n"
        for i in range(0, len(ports), 40)
    )
    p = g.cmesh.home.parent / "many.yaml"
    p.write_text(
        "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
        "metadata: {name: many, namespace: default}\nspec:\n"
        "  endpointSelector: {matchLabels: {app: payment}}\n  ingress:\n"
        "  - fromEndpoints: [{matchLabels: {app: frontend}}]\n    toPorts:\n"
        + rules
        + '  - toPorts: [{ports: [{port: "9100", endPort: 9300, protocol: TCP}]}]\n'
        + "  ingressDeny:\n  - fromEndpoints: [{matchLabels: {app: api}}]\n"
        + '    toPorts: [{ports: [{port: "9050", endPort: 9150, protocol: TCP}]}]\n'
    )
    g.cmesh("apply", "-f", str(p), "--context", "cluster-1")
    home = Home.open(g.cmesh.home)
    try:
        mesh = load_mesh(home)
    finally:
        home.close()
    engine = mesh.views["cluster-1"].engine
    tables = SideTables(mesh)
    subjects = [s for s in engine.local if engine.map_state(s).keys.get((Direction.INGRESS, 0))]
    peers = sorted(engine.cache.identities)
    checked = 0
    for subj in subjects:
        for peer in peers:
            for port in range(8990, 9320):
                got = tables.decide("cluster-1", 2, subj, peer, 1, port)
                want = engine.decide(Direction.INGRESS, subj, peer, Protocol.TCP, port)
                assert _same(got, want), (subj, peer, port)
                checked += 1
    assert subjects and checked > 5000


def test_more_clusters_than_the_code_holds_is_a_clear_error():
    """A home may have up to 511 clusters (ref §3.2); one set of tables encodes 63 of them, so
    replay builds its tables for the replayed clusters only and says what to do beyond."""
    from cmesh.datapath import Mesh
    from cmesh.errors import InvalidArgument
    from cmesh.replay.tables import MAX_CLUSTERS

    mesh = Mesh({f"c{i}": None for i in range(MAX_CLUSTERS + 1)})  # type: ignore[misc]
    assert SideTables(mesh, ["c7"]).index == {"c7": 0}
    with pytest.raises(InvalidArgument, match="at most 63") as info:
        SideTables(mesh)
    assert "--context" in info.value.hint
