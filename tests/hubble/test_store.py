"""The per-cluster flow rings in the kvstore: eviction, batches, queries, follow (ref §4.6).

Timing: nothing sleeps; ``follow`` is drained with ``timeout=0`` ("what is there now").
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from cmesh.errors import Conflict, InvalidArgument
from cmesh.hubble import (
    Flow,
    FlowFilter,
    FlowsRequest,
    FlowStore,
    ServerStatus,
    Verdict,
    build_request,
    to_json_line,
)
from cmesh.hubble.store import flow_key, ring_key
from cmesh.kvstore import Compare, MemoryStore, Store, TxnOp, TxnResult, open_store

SEC = 10**9
NOW = 10_000 * SEC


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = "memory://" if request.param == "memory" else f"sqlite://{tmp_path / 'flows.db'}"
    s = open_store(url)
    yield s
    s.close()


def flows(n: int, *, start: int = 0, cluster: str = "c1", dropped_every: int = 0) -> list[Flow]:
    """``n`` flows one second apart; uuid ``<cluster>-<i>``."""
    return [
        Flow(
            time=NOW - 1000 * SEC + i * SEC,
            uuid=f"{cluster}-{i}",
            node_name=f"{cluster}/node-1",
            verdict=(
                Verdict.DROPPED if dropped_every and i % dropped_every == 0 else Verdict.FORWARDED
            ),
        )
        for i in range(start, start + n)
    ]


def uuids(found: Sequence[Flow]) -> list[str]:
    return [f.uuid for f in found]


def kept_keys(store: Store, cluster: str = "c1") -> list[str]:
    kvs, _ = store.list(f"cmesh/hubble/{cluster}/flows/")
    return [kv.key for kv in kvs]


def test_keys_are_zero_padded_sequences_holding_the_json_line_ref_4_3(store):
    flow = flows(1)[0]
    FlowStore(store).add("c1", [flow])
    kv = store.get("cmesh/hubble/c1/flows/00000000000000000000")
    assert kv is not None and kv.value == to_json_line(flow).encode()
    assert flow_key("c1", 12) == "cmesh/hubble/c1/flows/00000000000000000012"


def test_ring_evicts_the_oldest_flows_ref_4_6(store):
    ring = FlowStore(store, max_flows=5)
    ring.add("c1", flows(3))
    ring.add("c1", flows(4, start=3))
    assert kept_keys(store) == [flow_key("c1", s) for s in range(2, 7)]
    assert uuids(ring.flows("c1")) == [f"c1-{i}" for i in range(2, 7)]
    assert ring.status(["c1"]) == ServerStatus(num_flows=5, max_flows=5, seen_flows=7)


def test_a_batch_larger_than_the_ring_keeps_its_newest_flows(store):
    ring = FlowStore(store, max_flows=5)
    ring.add("c1", flows(2))
    ring.add("c1", flows(8, start=2))
    assert uuids(ring.flows("c1")) == [f"c1-{i}" for i in range(5, 10)]
    assert ring.status(["c1"]).seen_flows == 10


def test_one_batch_is_one_transaction_evictions_included(store):
    ring = FlowStore(store, max_flows=3)
    ring.add("c1", flows(3))
    before = store.revision()
    after = ring.add("c1", flows(2, start=3))
    assert after == before + 1 == store.revision()
    events = list(store.watch("cmesh/hubble/c1/", before + 1, timeout=0))
    assert {e.revision for e in events} == {after}
    assert sorted(e.type.value for e in events) == ["delete", "delete", "put", "put", "put"]


def test_an_empty_batch_changes_nothing(store):
    ring = FlowStore(store)
    assert ring.add("c1", []) == store.revision() == 0
    assert store.get(ring_key("c1")) is None


def test_status_sums_clusters_and_counts_unknown_ones_as_empty(store):
    ring = FlowStore(store, max_flows=10)
    ring.add("c1", flows(4))
    ring.add("c2", flows(12, cluster="c2"))
    assert ring.status(["c1", "c2", "c3"]) == ServerStatus(14, 30, 16)


@pytest.mark.parametrize("bad", ["", "a/b"], ids=["empty", "slash"])
def test_cluster_names_must_be_key_safe(store, bad):
    with pytest.raises(InvalidArgument, match="invalid cluster name"):
        FlowStore(store).add(bad, flows(1))


class InterferingStore(MemoryStore):
    """Another writer touches the ring record just before each of our first transactions."""

    def __init__(self, interfere: int) -> None:
        super().__init__()
        self.interfere = interfere

    def txn(
        self, compares: Sequence[Compare], then: Sequence[TxnOp], otherwise: Sequence[TxnOp] = ()
    ) -> TxnResult:
        if self.interfere:
            self.interfere -= 1
            current = self.get(ring_key("c1"))
            self.put(ring_key("c1"), current.value if current else b'{"next": 0, "first": 0}')
        return super().txn(compares, then, otherwise)


def test_a_concurrent_writer_makes_add_retry_without_duplicates():
    store = InterferingStore(interfere=2)
    FlowStore(store).add("c1", flows(3))
    assert uuids(FlowStore(store).flows("c1")) == ["c1-0", "c1-1", "c1-2"]


def test_add_gives_up_with_conflict_and_changes_nothing():
    store = InterferingStore(interfere=100)
    with pytest.raises(Conflict):
        FlowStore(store, retries=3).add("c1", flows(3))
    assert kept_keys(store) == []


def test_default_query_is_the_last_20_flows_ref_4_5(store):
    ring = FlowStore(store)
    ring.add("c1", flows(30))
    found = ring.get_flows(["c1"], build_request(now=NOW))
    assert uuids(found) == [f"c1-{i}" for i in range(10, 30)]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"last": 2}, ["c1-28", "c1-29"]),
        ({"first": 2}, ["c1-0", "c1-1"]),
        ({"all_flows": True}, [f"c1-{i}" for i in range(30)]),
        # flow i is at NOW - 1000s + i s, so "975s" ago is flow 25
        ({"since": "975s"}, ["c1-25", "c1-26", "c1-27", "c1-28", "c1-29"]),
        ({"since": "980s", "until": "978s"}, ["c1-20", "c1-21", "c1-22"]),
        ({"since": "980s", "last": 1}, ["c1-29"]),
    ],
    ids=["last", "first", "all", "since", "since-until", "since-last"],
)
def test_queries_with_an_explicit_now_ref_4_5(store, kwargs, expected):
    ring = FlowStore(store)
    ring.add("c1", flows(30))
    assert uuids(ring.get_flows(["c1"], build_request(now=NOW, **kwargs))) == expected


def test_filters_apply_before_last_n_ref_4_5(store):
    ring = FlowStore(store)
    ring.add("c1", flows(30, dropped_every=10))
    request = build_request(now=NOW, last=2, whitelist=[FlowFilter(verdict=[Verdict.DROPPED])])
    assert uuids(ring.get_flows(["c1"], request)) == ["c1-10", "c1-20"]


def test_all_clusters_take_last_n_per_cluster_and_merge_by_time_ref_4_5(store):
    ring = FlowStore(store)
    ring.add("c1", flows(5))
    ring.add("c2", flows(5, start=1, cluster="c2"))
    found = ring.get_flows(["c1", "c2"], build_request(now=NOW, last=2))
    assert uuids(found) == ["c1-3", "c1-4", "c2-4", "c2-5"]  # a tie keeps cluster order


def test_follow_streams_history_then_new_flows_with_a_timeout(store):
    ring = FlowStore(store)
    ring.add("c1", flows(5))
    stream = ring.follow(["c1"], build_request(now=NOW, follow=True, last=2), timeout=0)
    ring.add("c1", flows(2, start=5))
    ring.add("c2", flows(1, cluster="c2"))  # another cluster: not followed
    assert uuids(stream) == ["c1-3", "c1-4", "c1-5", "c1-6"]


def test_follow_without_history_applies_filters(store):
    ring = FlowStore(store)
    ring.add("c1", flows(5))
    request = build_request(now=NOW, follow=True, whitelist=[FlowFilter(verdict=[Verdict.DROPPED])])
    stream = ring.follow(["c1", "c2"], request, timeout=0)
    ring.add("c1", flows(4, start=5, dropped_every=3))
    ring.add("c2", flows(3, cluster="c2", dropped_every=2))
    assert uuids(stream) == ["c1-6", "c2-0", "c2-2"]


def test_follow_recovers_from_a_compacted_watch_by_listing_again():
    store = MemoryStore(history=4)
    ring = FlowStore(store, max_flows=3)
    ring.add("c1", flows(1))
    stream = ring.follow(["c1"], FlowsRequest(follow=True), timeout=0)
    for i in range(1, 8):  # pushes the stream's start revision out of the history
        ring.add("c1", flows(1, start=i))
    assert uuids(stream) == ["c1-5", "c1-6", "c1-7"]  # what the ring still holds
