"""Reading flow logs in every form Hubble writes them (ref §4.3), robustly."""

from __future__ import annotations

import gzip
import io
import json
import sys
from pathlib import Path

import pytest

from cmesh.replay import FlowLog, ReadStats, read_flows, read_log
from cmesh.replay.reader import normalize

DATA = Path(__file__).parent / "data"
HANDWRITTEN = DATA / "handwritten.jsonl"


def _responses() -> list[dict]:
    return [json.loads(x) for x in HANDWRITTEN.read_text().splitlines()]


def _count(path: Path | str) -> tuple[int, ReadStats]:
    stats = ReadStats()
    n = sum(1 for _ in read_flows(path, stats))
    return n, stats


def test_get_flows_response_lines_ref_4_3(tmp_path):
    n, stats = _count(HANDWRITTEN)
    assert (n, stats.flows, stats.malformed) == (7, 7, 0)


@pytest.mark.parametrize(
    "shape",
    ["bare-lines", "array", "array-per-line", "pretty-concatenated", "gzip"],
    ids=str,
)
def test_every_shape_reads_the_same_flows_ref_4_3(tmp_path, shape):
    resp = _responses()
    bare = [r["flow"] for r in resp]
    p = tmp_path / "flows"
    if shape == "bare-lines":
        p.write_text("\n".join(json.dumps(f) for f in bare))
    elif shape == "array":
        p.write_text(json.dumps(resp, indent=2))
    elif shape == "array-per-line":
        p.write_text(json.dumps(resp[:3]) + "\n" + json.dumps(resp[3:]) + "\n")
    elif shape == "pretty-concatenated":  # jq . output
        p.write_text("\n".join(json.dumps(r, indent=2) for r in resp))
    else:
        p.write_bytes(gzip.compress(HANDWRITTEN.read_bytes()))
    log, stats = read_log(p)
    want, _ = read_log(HANDWRITTEN)
    assert stats.malformed == 0
    assert log.counts == want.counts
    assert log.skipped == want.skipped


def test_stdin_is_read_with_a_dash(monkeypatch):
    fake = io.TextIOWrapper(io.BytesIO(gzip.compress(HANDWRITTEN.read_bytes())))
    monkeypatch.setattr(sys, "stdin", fake)
    n, stats = _count("-")
    assert n == 7 and stats.source == "<stdin>"


def test_malformed_lines_are_reported_by_number_and_skipped(tmp_path):
    lines = HANDWRITTEN.read_text().splitlines()
    bad = [lines[0], "{not json", lines[1], '"a string"', "", lines[2], '{"flow": 3}']
    p = tmp_path / "bad.json"
    p.write_text("\n".join(bad) + "\n")
    n, stats = _count(p)
    assert n == 3
    assert stats.malformed == 3
    assert [line for line, _ in stats.errors] == [2, 4, 7]


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("flow", "destination", "labels"), [1]),
        (("flow", "destination", "labels"), "k8s:app=a"),
        (("flow", "destination", "cluster_name"), 2),
        (("flow", "destination", "namespace"), 3),
        (("flow", "IP", "destination"), ["10.0.0.1"]),
        (("flow", "l4", "TCP", "destination_port"), "eighty"),
        (("node_name",), True),
        (("flow", "destination_names"), [7]),
    ],
    ids=["labels-item", "labels-str", "cluster", "namespace", "ip", "port", "node", "names"],
)
def test_a_flow_with_wrong_field_types_is_a_malformed_line(tmp_path, where, value):
    """Valid JSON that is no Hubble flow (a field of the wrong type) is reported by line and
    skipped like unreadable JSON; the other flows are still replayed (it was a traceback)."""
    lines = HANDWRITTEN.read_text().splitlines()
    good, _ = read_log(_write(tmp_path / "good.json", lines[:3]))
    obj = json.loads(lines[1])
    target = obj
    for k in where[:-1]:
        target = target.setdefault(k, {})
    target[where[-1]] = value
    log, stats = read_log(_write(tmp_path / "bad.json", [lines[0], json.dumps(obj), lines[2]]))
    assert stats.malformed == 1 and stats.errors[0][0] == 2
    assert "not a Hubble flow: a field has the wrong type" in stats.errors[0][1]
    assert stats.flows == 2 and log.events == good.events - 1


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def test_responses_without_a_flow_are_counted_not_replayed_ref_4_6(tmp_path):
    p = tmp_path / "f.json"
    p.write_text(
        '{"node_status":{"state_change":"NODE_CONNECTED"},"node_name":"c1/n1"}\n'
        '{"lost_events":{"source":"HUBBLE_RING_BUFFER","num_events_lost":3}}\n'
        + HANDWRITTEN.read_text().splitlines()[0]
    )
    n, stats = _count(p)
    assert (n, stats.not_flows) == (1, 2)


def test_missing_optional_fields_never_crash(tmp_path):
    p = tmp_path / "min.json"
    p.write_text(
        "\n".join(
            [
                "{}",
                '{"verdict":"FORWARDED"}',
                '{"verdict":"FORWARDED","IP":{"source":"10.1.0.5"}}',
                '{"verdict":"DROPPED","IP":{"source":"1.2.3.4","destination":"10.1.0.5"},'
                '"l4":{"TCP":{"destination_port":80}}}',
                '{"verdict":7,"l4":{"UDP":{}},"IP":{}}',
            ]
        )
    )
    log, stats = read_log(p)
    assert stats.malformed == 0 and log.events == 5
    assert log.kept == 1  # only the drop has addresses, L4 and a verdict to replay


def test_a_truncated_gzip_is_reported_not_raised(tmp_path):
    p = tmp_path / "cut.json.gz"
    p.write_bytes(gzip.compress(HANDWRITTEN.read_bytes() * 50)[:-40])
    log, stats = read_log(p)
    assert stats.malformed == 1 and "cannot read further" in stats.errors[0][1]
    assert log.events > 0


def test_repeated_lines_hit_the_cache_and_count_the_same(tmp_path):
    """Compact lines that differ only in time, uuid and source port are not parsed twice."""
    line = json.loads(HANDWRITTEN.read_text().splitlines()[0])
    flow = {"time": "2026-01-01T10:00:00Z", "uuid": "u", **line["flow"]}
    out = []
    for i in range(20):
        flow["time"] = f"2026-01-01T10:00:{i:02d}Z"
        flow["uuid"] = f"u{i}"
        flow["l4"]["TCP"]["source_port"] = 40000 + i
        out.append(
            json.dumps(
                {"flow": flow, "node_name": line["node_name"], "time": flow["time"]},
                separators=(",", ":"),
            )
        )
    p = tmp_path / "rep.json"
    p.write_text("\n".join(out) + "\n")
    assert normalize(out[0].encode()) == normalize(out[7].encode())
    log, stats = read_log(p)
    assert stats.flows == 20 and log.kept == 20 and len(log.counts) == 1
    assert len(log._cache) == 1
    plain = FlowLog().add_all(read_flows(p))
    assert plain.counts == log.counts
