"""Which events of a Hubble log replay keeps, and what each attests (ref §4.1, §4.2, §2.4)."""

from __future__ import annotations

from pathlib import Path

from cmesh.replay import Observed, Side, read_log
from cmesh.replay.records import PROTOCOLS, Skip

HANDWRITTEN = Path(__file__).parent / "data" / "handwritten.jsonl"


def _keys():
    log, _ = read_log(HANDWRITTEN)
    return log, {k[1][2] + ">" + (k[2][2] or k[2][3]) + f":{k[4]}": k for k in log.counts}


def test_handwritten_flows_reduce_to_what_decides_ref_4_2():
    log, keys = _keys()
    # cross-cluster policy verdict at cluster-2's ingress
    k = keys["frontend-7d4b9c6f5-abcde>payment-5c2vctgzdc-zzzzz:8080"]
    assert (k[0], k[5], k[6]) == ("cluster-2", Side.INGRESS, Observed.FORWARDED)
    # an L7 request that was forwarded is expected at the server: both directions
    k = keys["frontend-7d4b9c6f5-abcde>api-6b7c8d9e0f-qwert:8080"]
    assert k[5] == Side.BOTH and k[7] == ("http", "GET", "/api/v1/orders/7", "api:8080")
    # the DNS query, its answer teaching the address's name
    k = keys["frontend-7d4b9c6f5-abcde>coredns-25qzjzt2zk-aaaaa:53"]
    assert k[3] == PROTOCOLS["UDP"] and k[7] == ("dns", "api.example.org.", "", "")
    assert log.names["203.0.113.10"] == {"api.example.org.", "api.example.org"}
    # a world flow leaving the node attests the source's egress
    k = keys["frontend-7d4b9c6f5-abcde>203.0.113.10:443"]
    assert (k[5], k[6]) == (Side.EGRESS, Observed.FORWARDED)
    # a policy drop at ingress
    k = keys["api-6b7c8d9e0f-qwert>payment-5c2vctgzdc-zzzzz:9999"]
    assert (k[5], k[6]) == (Side.INGRESS, Observed.DROPPED)


def test_replies_are_skipped_conntrack_lets_them_pass_ref_2_4():
    log, _ = _keys()
    assert log.skipped[Skip.REPLY] == 2  # the SYN-ACK and the DNS answer
    assert log.events == 7 and log.kept == 5


def test_non_policy_drops_and_pre_policy_traces_are_not_replayed(tmp_path):
    p = tmp_path / "f.json"
    p.write_text(
        '{"verdict":"DROPPED","drop_reason":158,"drop_reason_desc":"SERVICE_BACKEND_NOT_FOUND",'
        '"IP":{"source":"10.1.0.5","destination":"10.96.0.9"},"l4":{"TCP":{"destination_port":80}},'
        '"event_type":{"type":1,"sub_type":158},"traffic_direction":"EGRESS"}\n'
        '{"verdict":"FORWARDED","IP":{"source":"10.1.0.5","destination":"10.1.0.6"},'
        '"l4":{"TCP":{"destination_port":80}},"event_type":{"type":4,"sub_type":5},'
        '"trace_observation_point":"FROM_ENDPOINT","is_reply":false}\n'
    )
    log, _ = read_log(p)
    assert log.kept == 0
    assert log.skipped[Skip.OTHER_DROP] == 1 and log.skipped[Skip.NO_POLICY_POINT] == 1


def test_audit_verdicts_are_kept_as_passed_but_audited_ref_2_12(tmp_path):
    p = tmp_path / "f.json"
    p.write_text(
        '{"verdict":"AUDIT","IP":{"source":"10.1.0.5","destination":"10.1.0.6"},'
        '"l4":{"TCP":{"destination_port":80}},"event_type":{"type":5},'
        '"traffic_direction":"INGRESS","is_reply":false}\n'
    )
    log, _ = read_log(p)
    (k,) = log.counts
    assert (k[5], k[6]) == (Side.INGRESS, Observed.AUDIT)
