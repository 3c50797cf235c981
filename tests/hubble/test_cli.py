"""``cmesh hubble observe`` and ``cmesh hubble status`` over the flow store (ref §4.4, §4.5)."""

from __future__ import annotations

import json

import pytest

from cmesh.cli.hubble import observe, scan_filter_flags
from cmesh.cli.main import COMMANDS
from cmesh.hubble import FlowStore
from cmesh.registry import Home
from tests.conftest import Cmesh
from tests.hubble.samples import (
    REF_4_4_ALLOWED,
    REF_4_4_DENIED,
    ref_4_3_flow,
    ref_4_3_json,
    tiefighter_allowed,
    xwing_denied,
)


@pytest.fixture
def mesh(two_clusters: Cmesh, monkeypatch: pytest.MonkeyPatch) -> Cmesh:
    """cluster-1 holds the ref §4.4 policy verdicts, cluster-2 the ref §4.3 drop."""
    monkeypatch.setitem(COMMANDS, "hubble", ("cmesh.cli.hubble", "hubble"))
    home = Home.open(two_clusters.home)
    try:
        store = FlowStore(home.store)
        store.add("cluster-1", [tiefighter_allowed(), xwing_denied()])
        store.add("cluster-2", [ref_4_3_flow()])
    finally:
        home.close()
    return two_clusters


def lines(result) -> list[str]:
    return result.output.splitlines()


def test_observe_prints_compact_lines_ref_4_4(mesh):
    out = mesh("hubble", "observe", "--context", "cluster-1")
    assert lines(out) == [REF_4_4_ALLOWED, REF_4_4_DENIED]


def test_observe_json_is_one_response_per_line_ref_4_3(mesh):
    out = mesh("hubble", "observe", "--context", "cluster-2", "-o", "json")
    assert [json.loads(line) for line in lines(out)] == [ref_4_3_json()]


def test_observe_all_clusters_merges_by_time_ref_4_5(mesh):
    out = mesh("hubble", "observe", "--all-clusters", "-o", "jsonpb")
    times = [json.loads(line)["time"] for line in lines(out)]
    assert len(times) == 3 and times == sorted(times)


def test_observe_filters_in_command_line_order_ref_4_5(mesh):
    """``--not`` negates the flag right after it, so the same flags in another order differ."""
    observe = ("hubble", "observe", "--context", "cluster-1")
    out = mesh(*observe, "--from-pod", "default/xwing", "--not", "--verdict", "FORWARDED")
    assert lines(out) == [REF_4_4_DENIED]
    out = mesh(*observe, "--not", "--from-pod", "default/xwing", "--verdict", "FORWARDED")
    assert lines(out) == [REF_4_4_ALLOWED]


def test_observe_plain_form_ors_source_and_destination_ref_4_5(mesh):
    out = mesh("hubble", "observe", "--context", "cluster-1", "--pod", "default/deathstar")
    assert len(lines(out)) == 2
    out = mesh("hubble", "observe", "--context", "cluster-1", "--from-pod", "default/tie")
    assert lines(out) == [REF_4_4_ALLOWED]


def test_observe_print_options_ref_4_4(mesh):
    out = mesh(
        "hubble",
        "observe",
        "--context",
        "cluster-1",
        "--last",
        "1",
        "--first",
        "0",
        "--print-node-name",
        "--print-policy-names",
        "--numeric",
        "--time-format",
        "RFC3339",
        "--verdict",
        "FORWARDED",
    )
    assert lines(out) == [
        "2026-02-07T13:06:45Z [default/k8s1]: 10.0.0.112:59824 (ID:31028) -> 10.0.0.35:80 "
        "(ID:16530) policy-verdict:L3-L4 INGRESS ALLOWED BY rule1 (CiliumNetworkPolicy) "
        "(TCP Flags: SYN)"
    ]


def test_observe_table_and_dict_ref_4_4(mesh):
    table = lines(mesh("hubble", "observe", "--context", "cluster-1", "-o", "table"))
    assert table[0].split() == ["TIMESTAMP", "SOURCE", "DESTINATION", "TYPE", "VERDICT", "SUMMARY"]
    assert len(table) == 3
    dict_out = mesh("hubble", "observe", "--context", "cluster-1", "-o", "dict").output
    assert dict_out.count("------------\n") == 1 and "    VERDICT: DENIED" in dict_out


def test_observe_follow_with_timeout_streams_history(mesh):
    out = mesh(
        "hubble", "observe", "--context", "cluster-1", "-f", "--last", "1", "--follow-timeout", "0"
    )
    assert lines(out) == [REF_4_4_DENIED]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--verdict", "dropped"], "invalid --verdict value: dropped"),
        (
            ["--label", "a=b", "--from-label", "c=d"],
            "filters --label and --from-label cannot be combined",
        ),
        (["--first", "1", "--last", "1"], "cannot set both --first and --last"),
        (["-o", "table", "-f"], "table output format is not compatible with follow mode"),
        (["--all-clusters"], "--context and --all-clusters cannot be combined"),
        (["--since", "later"], "failed to parse the since time"),
        (["--since", "2020-13-45"], "failed to convert 2020-13-45 to time"),
        (["--until", "2026-02-31T10:00Z"], "failed to convert 2026-02-31T10:00Z to time"),
        (["--not"], "trailing --not found in the arguments"),
    ],
    ids=[
        "verdict",
        "conflict",
        "first-last",
        "table-follow",
        "context-all",
        "since",
        "since-month-13",
        "until-31-february",
        "not",
    ],
)
def test_observe_errors_are_reported_once(mesh, args, message):
    out = mesh("hubble", "observe", "--context", "cluster-1", *args, ok=False)
    assert out.exit_code == 1
    assert message in out.stderr


def test_status_counts_the_ring_ref_4_6(mesh):
    assert mesh("hubble", "status", "--all-clusters").output == (
        "Current/Max Flows: 3/8,190 (0.04%)\nFlows/s: N/A\n"
    )


def test_every_hubble_command_has_help(mesh):
    for command in ("observe", "status"):
        assert "Usage:" in mesh("hubble", command, "--help").output


def test_filter_flag_scan_keeps_order_and_skips_other_options():
    args = ["--last", "5", "-o", "json", "--not", "--to-label=app=x", "-n", "ns", "-4", "-tdrop"]
    assert scan_filter_flags(observe, args) == [
        ("--not", None),
        ("--to-label", "app=x"),
        ("-n", "ns"),
        ("-4", None),
        ("-t", "drop"),
    ]
