"""Conformance: the NetworkPolicy scenarios of np-guard/netpol-analyzer (../shared/corpora).

Every probe of every scenario that uses only Kubernetes NetworkPolicy must agree with the
analyzer's expected connectivity, except where Cilium's documented behaviour departs from
upstream semantics; those are listed in docs/netpol-conformance.md and expected to differ here
(strict xfail, so an accidental "fix" is noticed):

* host-network pods are not Cilium endpoints: they carry the node's identity (``host`` /
  ``remote-node``), no policy selects them, and peers see them as the node (ref §1.4, §2.1).
"""

from __future__ import annotations

import pytest

from cmesh.datapath import PeerKind
from tests.policy.corpus import CORPUS, cases, ends, load_case, np_only, probes

CASES = [c for c in cases() if np_only(c)]
pytestmark = pytest.mark.skipif(
    not CORPUS.exists(),
    reason=f"conformance corpus not found at {CORPUS} (it lives in ../shared beside the repository)",
)


def _split(case):
    loaded = load_case(case)
    plain, host = [], []
    for q, ok in probes(loaded, case):
        hn = any(
            p.kind is PeerKind.NODE for r in (q["src_ref"], q["dst_ref"]) for p in ends(loaded, r)
        )
        (host if hn else plain).append((q, ok))
    return plain, host


def _disagreements(results):
    return [
        f"{q['src']} -> {q['dst']} {q['protocol']}/{q['port']}: expected {q['expected']}, cmesh {'allow' if ok else 'deny'}"
        for q, ok in results
        if ok != (q["expected"] == "allow")
    ]


@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_networkpolicy_probes_agree_ref_2_13(case):
    plain, _ = _split(case)
    bad = _disagreements(plain)
    assert not bad, f"{len(bad)} of {len(plain)} probes disagree:\n" + "\n".join(bad[:20])


#: Scenarios where some probe crosses a host-network pod and the analyzer's answer differs from
#: Cilium's; docs/netpol-conformance.md lists them with the reason.
HOST_NETWORK_DIFFERENCES = {
    "ipblockstest",
    "ipblockstest_2",
    "ipblockstest_3",
    "ipblockstest_4",
    "multiple_topology_resources_1",
    "multiple_topology_resources_2",
    "semanticDiff-same-topologies-new1",
    "semanticDiff-same-topologies-new1a",
    "semanticDiff-same-topologies-new2",
    "semanticDiff-same-topologies-new3",
    "semanticDiff-same-topologies-old1",
    "semanticDiff-same-topologies-old2",
    "semanticDiff-same-topologies-old3",
}


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            c,
            marks=pytest.mark.xfail(
                strict=True,
                reason="Cilium departure: host-network pods have the node's identity and no policy selects them (ref §1.4)",
            ),
            id=c["case"],
        )
        if c["case"] in HOST_NETWORK_DIFFERENCES
        else pytest.param(c, id=c["case"])
        for c in CASES
    ],
)
def test_probes_through_host_network_pods_ref_1_4(case):
    _, host = _split(case)
    bad = _disagreements(host)
    assert not bad, f"{len(bad)} of {len(host)} host-network probes differ:\n" + "\n".join(bad[:10])
