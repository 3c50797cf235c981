"""Nearest misses: what an allow element of a default-deny direction did not match (ref §2.2)."""

from __future__ import annotations

import pytest

from cmesh.identity import reserved_identities
from cmesh.labels import Label, Labels
from cmesh.model import load_text
from cmesh.policy import (
    Direction,
    DropReason,
    IdentityInfo,
    ImportContext,
    PolicyEngine,
    Protocol,
    import_resource,
    nearest_misses,
)

CLIENT = 1000
CLIENT_LABELS = Labels(
    [
        Label("k8s", "app", "client"),
        Label("k8s", "io.kubernetes.pod.namespace", "default"),
        Label("k8s", "io.cilium.k8s.policy.cluster", "c1"),
    ]
)


def _engine(egress: str) -> PolicyEngine:
    eng = PolicyEngine("c1")
    for ident, info in reserved_identities().items():
        eng.upsert_identity(IdentityInfo(ident, info.labels))
    eng.upsert_identity(IdentityInfo(CLIENT, CLIENT_LABELS, "c1"), local=True)
    text = f"""
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {{name: out}}
spec:
  endpointSelector: {{matchLabels: {{app: client}}}}
  egress:
  - {egress}
    toPorts: [{{ports: [{{port: "443", protocol: TCP}}]}}]
"""
    resources, diags = load_text(text, "p.yaml")
    assert not diags and len(resources) == 1
    res = resources[0]
    eng.set_policy(res.key, import_resource(res, ImportContext("c1")))
    return eng


def _misses_to(eng: PolicyEngine, ip: str, port: int) -> list[str]:
    peer = eng.world_identity(ip)
    info = eng.identity(peer)
    assert info is not None
    d = eng.decide(Direction.EGRESS, CLIENT, peer, Protocol.TCP, port)
    assert d.drop_reason is DropReason.POLICY_DENIED
    misses = nearest_misses(eng, CLIENT, Direction.EGRESS, peer, info.labels, Protocol.TCP, port)
    assert len(misses) == 1
    return [f"{m.field}: {m.text}" for m in misses[0].mismatches]


@pytest.mark.parametrize(
    "egress, learn",
    [("toCIDR: [10.0.0.0/8]", False), ("toFQDNs: [{matchName: api.example.com}]", True)],
    ids=["cidr", "fqdn"],
)
def test_a_peer_the_element_selects_is_not_named_as_a_miss_ref_1_5_1_7(
    egress: str, learn: bool
) -> None:
    """The peer is in the CIDR (or was learned for the name): only the port missed."""
    eng = _engine(egress)
    if learn:
        eng.learn_fqdn("api.example.com", ["10.1.2.3"])
    assert _misses_to(eng, "10.1.2.3", 80) == ["port: allows 443/TCP, flow is 80/TCP"]


@pytest.mark.parametrize(
    "egress, peer_miss",
    [
        ("toCIDR: [10.0.0.0/8]", "peer: peer is not in CIDR 10.0.0.0/8"),
        (
            "toFQDNs: [{matchName: api.example.com}]",
            "peer: peer's address was not learned for fqdn:api.example.com by the DNS proxy"
            " (ref §2.11)",
        ),
    ],
    ids=["cidr", "fqdn"],
)
def test_a_peer_outside_the_element_is_named_as_a_miss_ref_1_5_1_7(
    egress: str, peer_miss: str
) -> None:
    eng = _engine(egress)
    assert _misses_to(eng, "192.0.2.1", 443) == [peer_miss]
