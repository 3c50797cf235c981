"""The guide's manifests, as a user saves them, load into the guide's two clusters."""

from tests.conftest import SEED, Cmesh, guide_clusters


def test_seed_workloads_get_addresses_from_their_cluster(cmesh: Cmesh):
    guide_clusters(cmesh, SEED / "payment.yaml", SEED / "workloads.yaml", connect=False)
    for ctx, prefix in (("cluster-1", "10.1."), ("cluster-2", "10.2.")):
        out = cmesh("get", "pods", "-A", "-o", "wide", "--context", ctx).output
        rows = [line.split() for line in out.splitlines()[1:]]
        names = [r[1] for r in rows]
        for wl in ("payment-", "frontend-", "api-", "database-0", "coredns-"):
            assert any(n.startswith(wl) for n in names), wl
        assert all(r[6].startswith(prefix) for r in rows)
        assert sum(n.startswith("payment-") for n in names) == 3
