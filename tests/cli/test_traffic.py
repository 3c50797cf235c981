"""`cmesh exec`, `cmesh run` and `cmesh dns`: errors say what, where and what to do instead."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import EXAMPLES, Cmesh


def test_exec_usage_error_names_the_pod_and_the_tools_there(two_clusters: Cmesh):
    two_clusters("apply", "-f", str(EXAMPLES / "seed" / "workloads.yaml"), "--context", "cluster-1")
    r = two_clusters("exec", "--context", "cluster-1", "default/database-0", "--", "bash", ok=False)
    assert r.exit_code == 1  # invalid input
    assert "cluster-1/default/database-0: bash: not found in the simulated pod" in r.stderr
    assert "hint: the simulated pods have curl, dig" in r.stderr


def test_run_takes_the_command_after_one_dash_dash_and_removes_its_pod(two_clusters: Cmesh):
    before = two_clusters.store_dump()
    name = "kubernetes.default.svc.cluster.local"
    r = two_clusters("run", "dbg", "--context", "cluster-1", "--", "--", "dig", "+short", name)
    assert r.stdout.strip() and 'pod "dbg" deleted' in r.stderr
    r = two_clusters("run", "dbg", "--context", "cluster-1", "-l", "app", "--", "dig", ok=False)
    assert r.exit_code != 0 and "-l 'app': expected KEY=VALUE" in r.stderr and "hint:" in r.stderr
    assert {k for k in two_clusters.store_dump() if "/dbg" in k} == {
        k for k in before if "/dbg" in k
    }


def test_dns_add_refuses_a_bad_address_and_says_what_to_give(cmesh: Cmesh):
    r = cmesh("dns", "add", "example.com", "1.2.3", ok=False)
    assert r.exit_code != 0
    assert "dns add example.com: '1.2.3' is not an IPv4 address" in r.stderr
    assert "hint:" in r.stderr


def test_dns_commands_do_not_load_the_simulator(tmp_path):
    """`cmesh dns add|list|remove` only read and write the hosts table: a fresh interpreter
    running them never imports the simulated datapath (``cmesh.datapath.sim``)."""
    script = f"""
import json, sys
from click.testing import CliRunner
from cmesh.cli import cli
home = {str(tmp_path / "home")!r}
run = lambda *a: CliRunner().invoke(cli, ["--home", home, *a], catch_exceptions=False)
assert run("dns", "add", "example.com", "93.184.216.34").exit_code == 0
listed = run("dns", "list", "-o", "json")
assert json.loads(listed.stdout) == {{"example.com": ["93.184.216.34"]}}, listed.stdout
assert run("dns", "remove", "example.com").exit_code == 0
assert json.loads(run("dns", "list", "-o", "json").stdout) == {{}}
print(sorted(m for m in sys.modules if m.startswith("cmesh.datapath")))
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert "cmesh.datapath.load" in out and "cmesh.datapath.sim" not in out, out
