"""The command line as a user meets it: install, status, contexts, get, help everywhere."""

import json

import click
import pytest

from cmesh.cli import cli
from cmesh.cli.main import COMMANDS
from tests.conftest import EXAMPLES, Cmesh


def test_install_as_in_the_guide_and_status(two_clusters: Cmesh):
    out = two_clusters("status", "--context", "cluster-1").output
    assert "cluster-1 (id 1)" in out and "Nodes:" in out
    data = json.loads(two_clusters("status", "--context", "cluster-2", "-o", "json").output)
    assert data["cluster"] == {"name": "cluster-2", "id": 2, "context": "cluster-2"}
    assert data["config"]["pod_cidr"] == "10.2.0.0/16"


def test_install_with_cilium_cli_set_form(cmesh: Cmesh):
    cmesh("install", "--context", "east", "--set", "cluster.name=east", "--set", "cluster.id=7")
    data = json.loads(cmesh("status", "--context", "east", "-o", "json").output)
    assert (data["cluster"]["name"], data["cluster"]["id"]) == ("east", 7)


def test_extended_cluster_ids_need_511_mode_ref_3_2(cmesh: Cmesh):
    res = cmesh("install", "--cluster-name", "big", "--cluster-id", "400", ok=False)
    assert "maxConnectedClusters=511" in res.stderr
    cmesh(
        "install",
        "--cluster-name",
        "big",
        "--cluster-id",
        "400",
        "--set",
        "clustermesh.maxConnectedClusters=511",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--context", "x", "--cluster-name", "x", "--cluster-id", "1"],
            "cluster id 1 is already used",
        ),
        (
            ["--context", "x", "--cluster-name", "cluster-2", "--cluster-id", "9"],
            "name 'cluster-2' is already used",
        ),
        (
            [
                "--context",
                "x",
                "--cluster-name",
                "x",
                "--cluster-id",
                "9",
                "--pod-cidr",
                "10.1.128.0/20",
            ],
            "overlaps pod CIDR",
        ),
        (
            [
                "--context",
                "x",
                "--cluster-name",
                "x",
                "--cluster-id",
                "9",
                "--pod-cidr",
                "10.9.0.0/99",
            ],
            "invalid pod CIDR",
        ),
        (["--context", "x", "--cluster-name", "x", "--cluster-id", "256"], "out of range"),
        (["--context", "cluster-1", "--cluster-name", "x", "--cluster-id", "9"], "already exists"),
    ],
    ids=[
        "duplicate-id",
        "duplicate-name",
        "overlapping-pod-cidr",
        "invalid-cidr",
        "id-out-of-range",
        "duplicate-context",
    ],
)
def test_bad_install_is_refused_and_changes_nothing(two_clusters: Cmesh, args, message):
    before = two_clusters.store_dump()
    res = two_clusters("install", *args, ok=False)
    assert res.exit_code == 1 and message in res.stderr
    assert "hint:" in res.stderr
    assert two_clusters.store_dump() == before


def test_contexts_like_kubectl(two_clusters: Cmesh, monkeypatch):
    out = two_clusters("config", "get-contexts").output
    assert "* " in out and "cluster-2" in out
    two_clusters("config", "use-context", "cluster-2")
    assert two_clusters("config", "current-context").output.strip() == "cluster-2"
    assert "cluster-2 (id 2)" in two_clusters("status").output
    monkeypatch.setenv("CMESH_CONTEXT", "cluster-1")
    assert "cluster-1 (id 1)" in two_clusters("status").output
    res = two_clusters("status", "--context", "nope", ok=False)
    assert 'context "nope" does not exist' in res.stderr


def test_uninstall_removes_everything(two_clusters: Cmesh):
    two_clusters("uninstall", "--context", "cluster-2")
    assert "cluster-2" not in two_clusters("config", "get-contexts").output
    assert not [k for k in two_clusters.store_dump() if "/cluster-2/" in k]


def test_config_set_policy_settings(two_clusters: Cmesh):
    two_clusters("config", "set", "policy-enforcement", "always", "--context", "cluster-1")
    two_clusters("config", "set", "policy-default-local-cluster", "false", "--context", "cluster-1")
    data = json.loads(two_clusters("status", "--context", "cluster-1", "-o", "json").output)[
        "config"
    ]
    assert data["policy_enforcement"] == "always" and data["policy_default_local_cluster"] is False
    assert (
        two_clusters(
            "config", "set", "policy-enforcement", "sometimes", "--context", "cluster-1", ok=False
        ).exit_code
        == 1
    )


def test_get_formats_and_short_names(two_clusters: Cmesh):
    two_clusters("apply", "-f", str(EXAMPLES / "seed" / "payment.yaml"), "--context", "cluster-1")
    wide = two_clusters(
        "get", "svc", "payment-service", "-o", "wide", "--context", "cluster-1"
    ).output
    assert "SELECTOR" in wide and "app=payment" in wide and "80/TCP" in wide
    data = json.loads(
        two_clusters(
            "get", "pods", "-l", "app=payment", "-o", "json", "--context", "cluster-1"
        ).output
    )
    assert data["kind"] == "List" and len(data["items"]) == 3
    names = two_clusters("get", "po", "-A", "-o", "name", "--context", "cluster-1").output.split()
    assert all(n.startswith("pod/") for n in names)
    assert "payment" in two_clusters("get", "deploy", "-o", "yaml", "--context", "cluster-1").output
    res = two_clusters("get", "widgets", "--context", "cluster-1", ok=False)
    assert "doesn't have a resource type" in res.stderr


def test_get_identities_lists_labels(two_clusters: Cmesh):
    two_clusters("apply", "-f", str(EXAMPLES / "seed" / "payment.yaml"), "--context", "cluster-2")
    out = two_clusters("get", "identities", "--context", "cluster-2").output
    assert "k8s:app=payment" in out
    ids = json.loads(
        two_clusters("get", "identities", "--context", "cluster-2", "-o", "json").output
    )
    assert all(131072 <= i["id"] <= 196607 for i in ids)  # cluster 2's range, ref §3.1


def _walk(cmd: click.Command, path: list[str]):
    yield path, cmd
    if isinstance(cmd, click.Group):
        ctx = click.Context(cmd)
        for name in cmd.list_commands(ctx):
            yield from _walk(cmd.get_command(ctx, name), [*path, name])


def test_every_command_has_help():
    for path, cmd in _walk(cli, []):
        assert cmd.help or cmd.short_help, f"cmesh {' '.join(path)} has no help"
    assert set(COMMANDS) <= {p[0] for p, _ in _walk(cli, []) if p}


def test_more_pods_than_addresses_is_a_clear_error_and_changes_nothing(cmesh: Cmesh, tmp_path):
    """Each node hands out its own /24 (ref §3.2): 300 pods on one node cannot be addressed;
    the error says so and how to fix it, and nothing is applied."""
    cmesh("install", "--context", "c1", "--cluster-name", "c1", "--cluster-id", "1", "--nodes", "1")
    pods = "".join(
        f"---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, labels: {{app: p}}}}\n"
        for i in range(300)
    )
    f = tmp_path / "pods.yaml"
    f.write_text(pods)
    before = cmesh.store_dump()
    r = cmesh("apply", "-f", str(f), "--context", "c1", ok=False)
    assert r.exit_code == 1, r.output
    assert "no free address left in 10." in r.stderr and "--nodes" in r.stderr
    assert "Traceback" not in r.output
    assert cmesh.store_dump() == before


@pytest.mark.parametrize(
    ("args", "what"),
    [
        (("test", "{bin}", "--manifests", str(EXAMPLES / "guide-mesh.yaml")), "spec"),
        (("replay", "--policies", "{bin}", "{bin}"), "manifest"),
        (("metrics", "--alerts", "{bin}"), "rule file"),
        (("apply", "-f", "{bin}"), "manifest"),
    ],
    ids=["test-spec", "replay-policies", "metrics-alerts", "apply"],
)
def test_a_binary_file_is_an_input_error_naming_it(two_clusters: Cmesh, tmp_path, args, what):
    """Every file a user names is read as UTF-8 text through one helper: a binary file (here
    an SQLite database) is 'not UTF-8 text' with the path, never a decoding traceback."""
    binary = tmp_path / "store.db"
    binary.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 4)
    argv = [a.format(bin=binary) for a in args]
    res = two_clusters(*argv, "--context", "cluster-1", ok=False)
    assert res.exit_code == 1
    assert f"{binary}: not UTF-8 text" in res.stderr and f"save the {what} as UTF-8" in res.stderr
