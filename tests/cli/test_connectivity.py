"""`cmesh connectivity test`: the cilium CLI's suite, run against the simulated mesh (ref §6)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tests.conftest import Cmesh


def mesh(cmesh: Cmesh) -> None:
    for i in (1, 2):
        cmesh("install", "--context", f"c{i}", "--cluster-name", f"c{i}", "--cluster-id", str(i))
        cmesh("clustermesh", "enable", "--context", f"c{i}", "--service-type", "LoadBalancer")
    cmesh("clustermesh", "connect", "--context", "c1", "--destination-context", "c2")


def test_suite_passes_across_two_clusters_and_writes_junit(cmesh: Cmesh, tmp_path):
    mesh(cmesh)
    junit = tmp_path / "j.xml"
    out = cmesh(
        "connectivity",
        "test",
        "--context",
        "c1",
        "--multi-cluster",
        "c2",
        "--junit-file",
        str(junit),
    ).output
    assert "🏃[cilium-test-1] Running 10 tests" in out
    assert "✅ [cilium-test-1] All 10 tests" in out
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0" and suite.get("tests") == "10"


def test_selection_and_multi_cluster_only_tests(cmesh: Cmesh):
    mesh(cmesh)
    out = cmesh(
        "connectivity", "test", "--context", "c1", "--test", "!l7", "--test", "egress"
    ).output
    assert "Test [client-egress]" in out and "Test [all-egress-deny]" in out
    assert "client-egress-l7" not in out and "no-policies" not in out
    out = cmesh("connectivity", "test", "--context", "c1", "--test", "multi-cluster").output
    assert "1 tests skipped" in out or "0 tests (0 actions)" in out  # needs --multi-cluster


def test_a_broken_expectation_fails_the_run(cmesh: Cmesh, manifest):
    mesh(cmesh)
    # a cluster-wide deny the suite does not expect: pod-to-world breaks in no-policies
    deny = manifest(
        "deny.yaml",
        "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: no-world}\nspec:\n  endpointSelector: {}\n  egressDeny: [{toEntities: [world]}]\n",
    )
    cmesh("apply", "-f", str(deny), "--context", "c1")
    res = cmesh("connectivity", "test", "--context", "c1", "--test", "no-policies", ok=False)
    assert res.exit_code == 1
    assert "❌ pod-to-world" in res.output and "tests failed" in res.output
    assert "connectivity test(s) failed in c1" in res.stderr and "hint:" in res.stderr


def test_a_test_filter_that_is_no_regex_is_an_input_error(cmesh: Cmesh):
    """--test is a Go (RE2) regular expression, as in cilium-cli; an invalid one is refused
    before anything is deployed (it was a traceback)."""
    mesh(cmesh)
    res = cmesh("connectivity", "test", "--context", "c1", "--test", "!echo[", ok=False)
    assert res.exit_code == 1 and "--test 'echo[': missing ]: [" in res.stderr
    assert "Running" not in res.output and "hint: --test takes a regular expression" in res.stderr
