"""``cmesh policy list``, ``cmesh policy diff`` and ``cmesh test`` on the guide's two clusters.

Offline through the mesh file ``examples/guide-mesh.yaml`` (the state ``cmesh demo`` leaves),
and on a home built the way the walkthrough builds it.  Sections of the semantics reference:
§1.14 (selectors without a cluster select the local cluster), §2.4 (both ends enforce; each
cluster its own side), §2.5 (deny wins), §2.6 (L7 on a port), §2.11 (DNS only through the rule).
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from tests.conftest import EXAMPLES, Cmesh, guide_clusters, pods_yaml

MESH = str(EXAMPLES / "guide-mesh.yaml")
SPEC = str(EXAMPLES / "guide-intent.yaml")


def broken_mesh(tmp_path: Path, replace: str, by: Path) -> str:
    """The guide's mesh file with one manifest swapped (paths made absolute)."""
    text = Path(MESH).read_text()
    lines = []
    for line in text.splitlines():
        if line.startswith("  - "):
            rel = line[4:].strip()
            path = by if rel == replace else EXAMPLES / rel
            line = f"  - {path}"
        lines.append(line)
    out = tmp_path / "mesh.yaml"
    out.write_text("\n".join(lines) + "\n")
    return str(out)


def test_list_across_clusters_needs_both_sides_ref_2_4_1_14(cmesh: Cmesh):
    out = cmesh("policy", "list", "--manifests", MESH, "--all-clusters").output
    lines = out.splitlines()
    assert lines == sorted(lines, key=lambda x: x.split(" : ")[0].split(" => "))
    assert (
        "cluster-2/default/frontend[Deployment] => cluster-1/default/payment[Deployment] : TCP 8080"
        in lines
    )
    # cluster-1's database admits only cluster-1's api (allow-from-cluster-1), ref §1.14
    assert not any(
        x.startswith("cluster-2/default/api[Deployment] => cluster-1/default/database")
        for x in lines
    )
    assert (
        "cluster-1/default/api[Deployment] => cluster-1/default/database[StatefulSet] : TCP 5432"
        in lines
    )
    # L7 summary where the api's HTTP rules apply (ref §2.6); DNS through the proxy (ref §2.11)
    api = next(
        x
        for x in lines
        if x.startswith("cluster-1/default/frontend[Deployment] => cluster-1/default/api[")
    )
    assert "TCP 8080 [L7 ingress TCP 8080 HTTP GET /api/v1/.* | POST /api/v1/orders" in api
    dns = next(
        x
        for x in lines
        if x.startswith("cluster-1/default/frontend[Deployment] => cluster-1/kube-system/coredns")
    )
    assert dns.endswith(": UDP 53 [L7 egress UDP 53 DNS *]")
    # host reaches every pod (allow-localhost, ref §2.1); the world reaches no pod of default
    assert (
        "cluster-1/host[Entity] => cluster-1/default/database[StatefulSet] : All Connections"
        in lines
    )
    assert not any(x.startswith("cluster-1/world[Entity] => cluster-1/default/") for x in lines)


def test_list_is_deterministic_and_scoped_to_the_context(cmesh: Cmesh):
    a = cmesh("policy", "list", "--manifests", MESH, "--context", "cluster-1").output
    b = cmesh("policy", "list", "--manifests", MESH, "--context", "cluster-1").output
    assert a == b
    assert "default/frontend[Deployment] => default/payment[Deployment] : TCP 8080" in a
    assert "cluster-2" not in a


def test_list_formats(cmesh: Cmesh):
    args = [
        "policy",
        "list",
        "--manifests",
        MESH,
        "--all-clusters",
        "--focus-workload",
        "default/payment",
    ]
    data = json.loads(cmesh(*args, "-o", "json").output)
    rows = data["connections"]
    assert rows and all("payment" in r["src"] + r["dst"] for r in rows)
    assert {"src", "dst", "conn", "ports", "allowed"} <= set(rows[0])
    table = list(csv.reader(io.StringIO(cmesh(*args, "-o", "csv").output)))
    assert table[0] == ["src", "dst", "conn", "l7"] and len(table) == len(rows) + 1
    md = cmesh(*args, "-o", "md").output.splitlines()
    assert md[0] == "| src | dst | conn |" and len(md) == len(rows) + 2
    dot = cmesh(*args, "-o", "dot").output
    assert dot.startswith("digraph connectivity {") and dot.count(" -> ") == len(rows)


DNS_ANY = (
    pods_yaml("a")
    + """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: dns, namespace: default}
spec:
  endpointSelector: {matchLabels: {app: a}}
  egress:
  - toEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns}}]
    toPorts:
    - ports: [{port: "53", protocol: ANY}]
      rules: {dns: [{matchPattern: "*"}]}
"""
)


def test_json_l7_rules_apart_from_ports_of_several_protocols_ref_1_8(cmesh: Cmesh, tmp_path: Path):
    """An L7 rule on port 53/ANY applies on TCP, UDP and SCTP 53 (ref §1.8); the JSON keeps the
    ports and the rules apart."""
    (tmp_path / "a.yaml").write_text(DNS_ANY)
    (tmp_path / "mesh.yaml").write_text("clusters:\n- {name: c1, id: 1, manifests: [a.yaml]}\n")
    args = ("--manifests", str(tmp_path / "mesh.yaml"), "--focus-workload", "default/a")
    rows = json.loads(cmesh("policy", "list", *args, "-o", "json").output)["connections"]
    (row,) = [r for r in rows if r["dst"] == "kube-system/coredns[Deployment]"]
    assert row["l7"] == [
        {"direction": "egress", "ports": "TCP 53; UDP 53; SCTP 53", "rules": "DNS *"}
    ]


def test_list_pods_and_explain_denied_pairs_ref_2_5(cmesh: Cmesh):
    out = cmesh(
        "policy",
        "list",
        "--manifests",
        MESH,
        "--all-clusters",
        "--pods",
        "--explain",
        "--focus-workload",
        "cluster-1/default/database-0",
    ).output
    assert "[Pod] => cluster-1/default/database-0[Pod]" in out
    # api of cluster-2: egress allows it, cluster-1's ingress does not — the trace says why
    denied = out[out.index("cluster-2/default/api-") :]
    assert denied.splitlines()[0].endswith("No Connections (denied)")
    assert "Verdict: DROPPED" in denied
    assert "ingress" in denied and "allow-from-cluster-1" in denied


def test_diff_identical_is_exit_0(cmesh: Cmesh):
    res = cmesh("policy", "diff", MESH, MESH)
    assert "No connectivity change." in res.output


def test_diff_groups_changes_by_the_policy_that_causes_them(cmesh: Cmesh, tmp_path: Path):
    seed = EXAMPLES / "seed" / "policies" / "allow-frontend-to-payment.yaml"
    new = broken_mesh(tmp_path, "corrected/allow-frontend-to-payment.yaml", seed)
    res = cmesh("policy", "diff", MESH, new, ok=False)
    assert res.exit_code == 1, res.output
    out = res.output
    assert "changed CiliumNetworkPolicy default/allow-frontend-to-payment in cluster-1" in out
    assert (
        "- cluster-2/default/frontend[Deployment] => cluster-1/default/payment[Deployment] : TCP 8080"
        in out
    )
    md = cmesh("policy", "diff", MESH, new, "-o", "md", ok=False).output
    assert md.startswith("### cmesh policy diff") and "| removed |" in md
    data = json.loads(cmesh("policy", "diff", MESH, new, "-o", "json", ok=False).output)
    assert data["changed"] and data["counts"]["removed"] == 2 and data["counts"]["added"] == 0


def test_guide_intent_spec_passes_with_junit(cmesh: Cmesh, tmp_path: Path):
    junit = tmp_path / "junit.xml"
    res = cmesh("test", SPEC, "--manifests", MESH, "--junit-file", str(junit))
    assert res.output.strip().endswith("17 passed, 0 failed")
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0" and suite.get("tests") == "17"


def test_broken_policy_fails_the_spec_with_the_flow_and_why_ref_1_14(cmesh: Cmesh, tmp_path: Path):
    # the guide's allow-frontend-to-payment as written: no cluster names, local cluster only
    seed = EXAMPLES / "seed" / "policies" / "allow-frontend-to-payment.yaml"
    res = cmesh(
        "test",
        SPEC,
        "--manifests",
        broken_mesh(tmp_path, "corrected/allow-frontend-to-payment.yaml", seed),
        "-o",
        "txt",
        ok=False,
    )
    assert res.exit_code == 1
    out = res.output
    assert "FAIL  frontend reaches payment-service from both clusters" in out
    assert (
        "flow cluster-1/default/frontend-" in out
        and "-> svc default/payment-service:80 -> cluster-2/default/payment-" in out
    )
    assert "DROPPED, expected allow" in out
    assert "cluster: needs cluster cluster-2, peer is in cluster-1" in out  # the nearest miss
    data = json.loads(
        cmesh(
            "test",
            SPEC,
            "--manifests",
            broken_mesh(tmp_path, "corrected/allow-frontend-to-payment.yaml", seed),
            "-o",
            "json",
            ok=False,
        ).output
    )
    assert data["failed"] >= 1
    fail = next(r for r in data["results"] if not r["passed"])
    assert fail["failures"][0]["trace"]["decided_at"] == "ingress"


def test_l7_expectations_ref_2_7(cmesh: Cmesh, tmp_path: Path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        """
apiVersion: cmesh.io/v1alpha1
kind: ConnectivityTest
spec:
  expectations:
  - name: GET outside /api/v1 is refused
    from: {cluster: cluster-1, labels: {app: frontend}}
    to: {cluster: same, labels: {app: api, region: us-east-1}}
    ports: [8080]
    http: {method: GET, path: /admin}
    expect: allow
  coverage:
  - name: kube-system is isolated
    pods: {namespace: kube-system}
"""
    )
    res = cmesh("test", str(spec), "--manifests", MESH, ok=False)
    assert res.exit_code == 1
    assert "HTTP 403, expected allow" in res.output
    assert "path /admin does not match '/api/v1/.*'" in res.output
    assert "kube-system/coredns-" in res.output and "is selected by no ingress policy" in res.output


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "expectations: [{from: {}, to: {}, ports: [80], expect: maybe}]",
            "expectations[0].expect: must be allow or deny",
        ),
        (
            "expectations: [{from: {}, to: {}, expect: allow}]",
            "expectations[0].ports: give at least one port",
        ),
        (
            "expectations: [{from: {team: x}, to: {}, ports: [80], expect: allow}]",
            "expectations[0].from: unknown field(s) team",
        ),
        (
            "expectations: [{from: {}, to: {}, ports: [http], expect: allow}]",
            "cannot read port 'http'",
        ),
        (
            "expectations: [{from: {}, to: {cidr: 10.0.0.300/8}, ports: [80], expect: deny}]",
            "expectations[0].to.cidr: expected an IP prefix such as 10.0.0.0/8",
        ),
        (
            "expectations: [{from: {}, to: {service: payment}, ports: [80], expect: deny}]",
            "expectations[0].to.service: expected NS/NAME, got 'payment'",
        ),
        (
            "expectations: [{from: {}, to: {}, ports: [80], http: {headers: [a]}, expect: allow}]",
            "expectations[0].http.headers: expected a mapping of header to value, got a list",
        ),
        (
            "expectations: [{from: {labels: [app]}, to: {}, ports: [80], expect: allow}]",
            "expectations[0].from.labels: expected a mapping of label to value, got a list",
        ),
        ("expectations: {from: {}}", "spec.expectations: expected a list, got a mapping"),
        ("coverage: [{pods: {}, selected-by: [ingress]}]", "selected-by: expected a string"),
        ("tests: []", "spec: unknown field(s) tests"),
    ],
    ids=[
        "expect",
        "ports",
        "selector-field",
        "port-syntax",
        "cidr",
        "service",
        "headers",
        "labels",
        "expectations-list",
        "selected-by",
        "spec-field",
    ],
)
def test_spec_errors_name_the_field(cmesh: Cmesh, tmp_path: Path, body: str, message: str):
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"apiVersion: cmesh.io/v1alpha1\nkind: ConnectivityTest\nspec:\n  {body}\n")
    res = cmesh("test", str(spec), "--manifests", MESH, ok=False)
    assert res.exit_code == 1
    assert f"{spec}:4: " in res.stderr and message in res.stderr


def test_spec_errors_give_the_line_of_the_field(cmesh: Cmesh, tmp_path: Path):
    """Bad input says file:line and the field path, and nothing is evaluated (STYLE, errors)."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        """\
apiVersion: cmesh.io/v1alpha1
kind: ConnectivityTest
spec:
  expectations:
  - name: fine
    from: {labels: {app: frontend}}
    to: {service: default/payment-service}
    ports: [80/TCP]
    expect: allow
  - name: broken
    from: {labels: {app: frontend}}
    to: {labels: {app: api}}
    ports:
    - 8080/TCP
    - 9000/BOGUS
    expect: allow
"""
    )
    res = cmesh("test", str(spec), "--manifests", MESH, ok=False)
    assert res.exit_code == 1 and "PASS" not in res.output
    assert f"{spec}:15: spec.expectations[1].ports[1]: " in res.stderr
    spec.write_text(spec.read_text() + "---\nkind: ConnectivityTest\n")
    res = cmesh("test", str(spec), "--manifests", MESH, ok=False)
    assert "expected one YAML document, found 2" in res.stderr


@pytest.fixture
def guide_home(cmesh: Cmesh) -> Cmesh:
    """The demo's state: workloads, seed policies, corrected policies, connected (guide.py)."""
    seed, fixed = EXAMPLES / "seed", EXAMPLES / "corrected"
    guide_clusters(cmesh, seed / "payment.yaml", seed / "workloads.yaml")
    names = [
        "allow-from-cluster-1",
        "api-http-policy",
        "allow-dns",
        "allow-frontend-to-payment",
        "restrict-cross-region-database-access",
    ]
    fixes = [
        "default-deny-all",
        "mtls-required-policy",
        "allow-frontend-to-payment",
        "restrict-cross-region-database-access",
        "allow-required-egress",
    ]
    for c in ("cluster-1", "cluster-2"):
        for files in (
            [seed / "policies" / f"{n}.yaml" for n in names],
            [fixed / f"{n}.yaml" for n in fixes],
        ):
            cmesh("apply", *[x for f in files for x in ("-f", str(f))], "--context", c)
    cmesh("apply", "-f", str(fixed / "restricted-dns.yaml"), "--context", "cluster-1")
    cmesh("dns", "add", "example.com", "93.184.216.34")
    return cmesh


def test_home_commands_on_the_guide_clusters(guide_home: Cmesh):
    cmesh = guide_home
    res = cmesh("test", SPEC)
    assert res.output.strip().endswith("17 passed, 0 failed")
    out = cmesh("policy", "list", "--all-clusters").output
    assert (
        "cluster-2/default/frontend[Deployment] => cluster-1/default/payment[Deployment] : TCP 8080"
        in out
    )
    assert (
        "default/frontend[Deployment] => default/payment[Deployment] : TCP 8080"
        in cmesh("policy", "list", "--context", "cluster-1").output
    )
    # the guide's own allow-frontend-to-payment applied over the home, nothing written (ref §1.14)
    seed = EXAMPLES / "seed" / "policies" / "allow-frontend-to-payment.yaml"
    res = cmesh("policy", "diff", "HOME", str(seed), "--context", "cluster-1", ok=False)
    assert res.exit_code == 1, res.output
    assert (
        "- cluster-2/default/frontend[Deployment] => cluster-1/default/payment[Deployment] : TCP 8080"
        in res.output
    )
    assert cmesh("policy", "diff", "HOME", "HOME").exit_code == 0
    assert cmesh("test", SPEC).exit_code == 0  # the diff changed nothing


def _console(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """The installed console script's entry point, in its own process (as a user runs it)."""
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from cmesh.cli.main import main; main()",
            "--home",
            str(home),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_analyses_exit_fast_with_all_output_and_their_exit_code(cmesh: Cmesh, tmp_path: Path):
    """``policy list``, ``diff`` and ``test`` end with ``os._exit`` after flushing: the whole
    output reaches the pipe and the exit code and JUnit file are those of an ordinary exit."""
    home = cmesh.home
    listed = _console("policy", "list", "--manifests", MESH, "--all-clusters", home=home)
    assert listed.returncode == 0, listed.stderr
    inproc = cmesh("policy", "list", "--manifests", MESH, "--all-clusters").output
    assert listed.stdout == inproc and listed.stdout.endswith("\n")
    seed = EXAMPLES / "seed" / "policies" / "allow-frontend-to-payment.yaml"
    new = broken_mesh(tmp_path, "corrected/allow-frontend-to-payment.yaml", seed)
    changed = _console("policy", "diff", MESH, new, "-o", "json", home=home)
    assert changed.returncode == 1 and json.loads(changed.stdout)["counts"]["removed"] == 2
    junit = tmp_path / "junit.xml"
    failed = _console("test", SPEC, "--manifests", new, "--junit-file", str(junit), home=home)
    assert failed.returncode == 1 and failed.stdout.endswith("15 passed, 2 failed\n")
    assert ET.parse(junit).getroot().find("testsuite").get("failures") == "2"  # type: ignore[union-attr]
    bad = _console("test", SPEC, "--manifests", str(tmp_path / "absent"), home=home)
    assert bad.returncode == 1 and 'the path "' in bad.stderr and "does not exist" in bad.stderr
    assert not home.exists()  # an offline analysis of manifests creates no home


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("absent/junit.xml", "the folder {tmp}/absent does not exist"),
        ("", "{tmp} is a folder; give a file name"),
    ],
    ids=["missing-folder", "a-folder"],
)
def test_junit_file_is_checked_before_anything_runs(
    cmesh: Cmesh, tmp_path: Path, where: str, message: str
):
    """A --junit-file that cannot be written is a usage error naming the path, before the
    analysis runs (it printed a traceback after it); the connectivity suite shares the check."""
    path = str(tmp_path / where) if where else str(tmp_path)
    expected = message.format(tmp=tmp_path)
    res = cmesh("test", SPEC, "--manifests", MESH, "--junit-file", path, ok=False)
    assert res.exit_code == 2 and expected in res.output and "PASS" not in res.output
    res = cmesh("connectivity", "test", "--junit-file", path, ok=False)
    assert res.exit_code == 2 and expected in res.output
    assert not cmesh.home.exists()


def test_junit_file_with_a_name_too_long_is_a_usage_error(cmesh: Cmesh, tmp_path: Path):
    too_long = str(tmp_path / ("x" * 300 + ".xml"))
    res = cmesh("test", SPEC, "--manifests", MESH, "--junit-file", too_long, ok=False)
    assert res.exit_code == 2 and "File name too long" in res.output


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_junit_file_that_cannot_be_written_is_an_input_error(cmesh: Cmesh):
    """The folder exists but takes no new files (even as root): an error with a hint, after
    the results are printed, and exit 1."""
    res = cmesh("test", SPEC, "--manifests", MESH, "--junit-file", "/proc/cmesh.xml", ok=False)
    assert res.exit_code == 1 and "17 passed, 0 failed" in res.output
    assert "cannot write /proc/cmesh.xml" in res.output
    assert "hint: give --junit-file a path" in res.output
