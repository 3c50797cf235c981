"""Applying manifests through the store: all or nothing, no-op re-apply, bad input changes nothing."""

import pytest

from tests.conftest import Cmesh

GOOD = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c}]}
"""


def test_apply_then_reapply_is_a_no_op(two_clusters: Cmesh, manifest):
    f = manifest("web.yaml", GOOD)
    out = two_clusters("apply", "-f", str(f), "--context", "cluster-1").output
    assert "deployment.apps/web created" in out
    before = two_clusters.store_dump()
    out = two_clusters("apply", "-f", str(f), "--context", "cluster-1").output
    assert "deployment.apps/web unchanged" in out
    assert two_clusters.store_dump() == before


BAD_INPUTS = {
    "broken-yaml": ("apiVersion: v1\nkind: Pod\nmetadata: {name: [a\n", "YAML syntax error"),
    "wrong-type": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w}\nspec: {replicas: three}\n",
        "spec.replicas: expected an integer",
    ),
    "missing-field": (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n}\nspec: {}\n",
        "spec.podSelector: required field is missing",
    ),
    "invalid-cidr-in-policy-field": (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, ports: [{containerPort: 99999}]}]}\n",
        "containerPort",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_manifest_is_reported_with_location_and_changes_nothing(
    two_clusters: Cmesh, manifest, case
):
    text, message = BAD_INPUTS[case]
    good = manifest("a-good.yaml", GOOD)
    bad = manifest("b-bad.yaml", text)
    before = two_clusters.store_dump()
    res = two_clusters("apply", "-f", str(good), "-f", str(bad), "--context", "cluster-1", ok=False)
    assert res.exit_code == 1
    assert message in res.stderr
    assert "b-bad.yaml:" in res.stderr  # file:line
    assert "nothing was applied" in res.stderr
    assert two_clusters.store_dump() == before


def test_unknown_kind_is_skipped_with_a_warning(two_clusters: Cmesh, manifest):
    f = manifest(
        "x.yaml",
        "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: r}\n---\n"
        + GOOD,
    )
    res = two_clusters("apply", "-f", str(f), "--context", "cluster-1")
    assert "skipped PrometheusRule" in res.stderr
    assert "deployment.apps/web created" in res.output


def test_directory_is_read_recursively_and_sorted(two_clusters: Cmesh, tmp_path):
    d = tmp_path / "m"
    (d / "sub").mkdir(parents=True)
    (d / "sub" / "b.yaml").write_text(GOOD.replace("name: web", "name: b"))
    (d / "a.yml").write_text(GOOD.replace("name: web", "name: a"))
    (d / "notes.txt").write_text("not a manifest")
    out = two_clusters("apply", "-f", str(d), "--context", "cluster-1").output.splitlines()
    assert out == ["deployment.apps/a created", "deployment.apps/b created"]


def test_stdin(two_clusters: Cmesh):
    out = two_clusters("apply", "-f", "-", "--context", "cluster-2", input=GOOD).output
    assert "deployment.apps/web created" in out


def test_namespace_flag_and_implicit_namespace(two_clusters: Cmesh, manifest):
    two_clusters(
        "apply", "-f", str(manifest("w.yaml", GOOD)), "-n", "shop", "--context", "cluster-1"
    )
    out = two_clusters("get", "ns", "--context", "cluster-1").output
    assert "shop" in out
    out = two_clusters("get", "pods", "-n", "shop", "--context", "cluster-1").output
    assert out.count("web-") == 2


def test_delete_is_all_or_nothing(two_clusters: Cmesh, manifest):
    f = manifest("w.yaml", GOOD)
    two_clusters("apply", "-f", str(f), "--context", "cluster-1")
    other = manifest("o.yaml", GOOD.replace("name: web", "name: never-applied"))
    before = two_clusters.store_dump()
    res = two_clusters("delete", "-f", str(f), "-f", str(other), "--context", "cluster-1", ok=False)
    assert res.exit_code == 1 and "not found" in res.stderr
    assert two_clusters.store_dump() == before
    out = two_clusters("delete", "-f", str(f), "--context", "cluster-1").output
    assert "deployment.apps/web deleted" in out
    assert "No resources found" in two_clusters("get", "pods", "--context", "cluster-1").stderr
