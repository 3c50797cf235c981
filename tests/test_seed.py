"""The guide's manifests, as a user saves them, load into the guide's two clusters."""

from tests.conftest import EXAMPLES, Cmesh

SEED = EXAMPLES / "seed"


def test_seed_workloads_get_addresses_from_their_cluster(two_clusters: Cmesh):
    for ctx, prefix in (("cluster-1", "10.1."), ("cluster-2", "10.2.")):
        two_clusters(
            "apply",
            "-f",
            str(SEED / "payment.yaml"),
            "-f",
            str(SEED / "workloads.yaml"),
            "--context",
            ctx,
        )
        out = two_clusters("get", "pods", "-A", "-o", "wide", "--context", ctx).output
        rows = [line.split() for line in out.splitlines()[1:]]
        names = [r[1] for r in rows]
        for wl in ("payment-", "frontend-", "api-", "database-0", "coredns-"):
            assert any(n.startswith(wl) for n in names), wl
        assert all(r[6].startswith(prefix) for r in rows)
        assert sum(n.startswith("payment-") for n in names) == 3
