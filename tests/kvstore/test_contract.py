"""The Store contract, run against every backend (``store.py``'s module docstring).

Each test takes a ``harness`` (or ``store``) fixture parametrized over :data:`BACKENDS`.  A
backend is one ``BACKENDS`` entry and one branch in :func:`harness` returning a
:class:`Harness` whose opener connects a new client to one shared store that keeps at most
``history`` events (the compaction tests open one with a small bound).

Revisions are written relative to the store's revision when the test began
(:attr:`Harness.base`): 0 for the embedded stores, etcd's revision after wiping it (a fresh
etcd is at revision 1 and one server serves the session).  :meth:`Harness.rel` shifts what a
store returns, :meth:`Harness.rev` what a test passes in.

Timing: no test sleeps.  Watches are drained with ``timeout=0`` ("what is there now"), live
changes are written after the watch has delivered LISTED.  Leases expire by a fake clock where
the backend takes one; etcd's leases run on etcd's clock, so there a test grants etcd's minimum
TTL (1 s on the test server) and waits for the expiry on a watch with a timeout.  Tests of lease
*timing* (not before the TTL, keepalive renews it) need the fake clock and skip on etcd.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pytest

import cmesh.kvstore as kvstore
from cmesh.errors import Compacted, InvalidArgument, NotFound, StoreUnavailable
from cmesh.kvstore import (
    Compare,
    Delete,
    EtcdStore,
    Event,
    EventType,
    KeyValue,
    MemoryStore,
    Op,
    Put,
    SQLiteStore,
    Store,
    Target,
    open_store,
)
from tests.etcd import EtcdServer

BACKENDS = ["memory", "sqlite", pytest.param("etcd", marks=pytest.mark.etcd)]
UNBOUNDED = 100_000

T = TypeVar("T")


@dataclass
class FakeClock:
    """Lease time that moves only when a test says so."""

    now: float = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Harness:
    """How the contract opens, ages and compacts one backend."""

    name: str
    opener: Callable[[FakeClock, int], Store]
    persistent: bool
    #: False: leases run on the server's clock, which :meth:`advance` cannot move.
    fake_clock: bool = True
    #: The TTL lease tests grant, and how long a watch waits for its expiry.
    ttl: float = 10
    expiry_wait: float = 0
    base: int = 0
    clock: FakeClock = field(default_factory=FakeClock)
    opened: list[Store] = field(default_factory=list)

    def open(self, history: int = UNBOUNDED) -> Store:
        """A client of the harness's store (the same data for persistent backends)."""
        store = self.opener(self.clock, history)
        self.opened.append(store)
        return store

    def advance(self, seconds: float) -> None:
        self.clock.now += seconds

    def let_leases_expire(self) -> None:
        """Move the fake clock past :attr:`ttl`; on etcd, real time passes in the next wait."""
        if self.fake_clock:
            self.advance(self.ttl + 0.1)

    def require_fake_clock(self) -> None:
        if not self.fake_clock:
            pytest.skip(f"{self.name} leases run on the server's clock, which a test cannot move")

    def rev(self, n: int) -> int:
        """The absolute revision of the test's n-th revision."""
        return self.base + n

    def rel(self, value: T) -> T:
        """``value`` (a revision, KeyValue, Event, or a list or tuple of them) with revisions
        counted from the test's start; revision 0 ("none") stays 0 in a KeyValue."""
        shifted: object
        if isinstance(value, bool) or value is None or isinstance(value, str | bytes):
            shifted = value
        elif isinstance(value, int):
            shifted = value - self.base
        elif isinstance(value, KeyValue):
            shifted = dataclasses.replace(
                value,
                create_revision=value.create_revision and value.create_revision - self.base,
                mod_revision=value.mod_revision and value.mod_revision - self.base,
            )
        elif isinstance(value, Event):
            shifted = Event(value.type, self.rel(value.kv), value.revision - self.base)
        elif isinstance(value, list | tuple):
            shifted = type(value)(self.rel(item) for item in value)
        else:
            raise TypeError(f"no revisions to shift in {value!r}")
        return shifted  # type: ignore[return-value]

    def at(self, compare: Compare) -> Compare:
        """A compare whose CREATE/MOD revision is relative, made absolute (0 stays 0)."""
        if compare.target in (Target.CREATE, Target.MOD) and compare.value:
            return dataclasses.replace(compare, value=self.rev(int(compare.value)))
        return compare


class CompactingEtcdStore(EtcdStore):
    """An etcd client that compacts after each put so that etcd keeps ``history`` revisions."""

    def __init__(self, server: EtcdServer, history: int) -> None:
        super().__init__(server.url)
        self._server = server
        self._history = history

    def put(self, key: str, value: bytes, *, lease: int = 0) -> int:
        revision = super().put(key, value, lease=lease)
        if revision - self._history + 1 > 1:
            self._server.compact(revision - self._history + 1)
        return revision


@pytest.fixture(params=BACKENDS)
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    if request.param == "memory":
        memory: dict[int, MemoryStore] = {}

        def open_memory(clock: FakeClock, history: int) -> Store:
            # Every client of one harness shares one store, like clients of one server.
            if history not in memory:
                memory[history] = MemoryStore(clock=clock, history=history)
            return memory[history]

        h = Harness("memory", open_memory, persistent=False)
    elif request.param == "sqlite":

        def open_sqlite(clock: FakeClock, history: int) -> Store:
            return SQLiteStore(tmp_path / f"h{history}" / "store.db", clock=clock, history=history)

        h = Harness("sqlite", open_sqlite, persistent=True)
    else:
        server: EtcdServer = request.getfixturevalue("etcd")

        def open_etcd(clock: FakeClock, history: int) -> Store:
            if history < UNBOUNDED:
                return CompactingEtcdStore(server, history)
            return EtcdStore(server.url)

        h = Harness("etcd", open_etcd, persistent=True, fake_clock=False, ttl=1, expiry_wait=10)
        h.base = server.revision()
    yield h
    for store in h.opened:
        store.close()


@pytest.fixture
def store(harness: Harness) -> Store:
    return harness.open()


def drain(store: Store, prefix: str, from_revision: int | None = None) -> list[Event]:
    """Every event a watch has to give now, without waiting for more."""
    return list(store.watch(prefix, from_revision, timeout=0))


def summary(events: list[Event]) -> list[tuple[str, str, int]]:
    return [(e.type.value, e.key, e.revision) for e in events]


# -- keys, revisions, versions --------------------------------------------------------------


def test_get_of_absent_key_is_none(harness: Harness, store: Store) -> None:
    assert store.get("nope") is None
    assert harness.rel(store.revision()) == 0


def test_put_creates_version_1_at_a_new_revision(harness: Harness, store: Store) -> None:
    rev = store.put("a", b"1")
    assert harness.rel(rev) == harness.rel(store.revision()) == 1
    assert harness.rel(store.get("a")) == KeyValue("a", b"1", 1, mod_revision=1, version=1)


def test_put_again_keeps_create_revision_and_bumps_version_like_etcd(store: Store) -> None:
    first = store.put("a", b"1")
    store.put("other", b"x")
    second = store.put("a", b"2")
    assert store.get("a") == KeyValue("a", b"2", first, second, version=2)


def test_put_after_delete_starts_a_new_life_at_version_1(store: Store) -> None:
    store.put("a", b"1")
    store.put("a", b"2")
    assert store.delete("a") == 1
    rev = store.put("a", b"3")
    assert store.get("a") == KeyValue("a", b"3", rev, rev, version=1)


def test_every_change_is_one_new_revision_and_reads_and_noops_make_none(
    harness: Harness, store: Store
) -> None:
    revisions = [store.put("a", b"1"), store.put("b", b"1")]
    store.delete("a")
    revisions.append(store.revision())
    revisions.append(store.txn([], [Put("c", b"1"), Delete("b")]).revision)
    assert harness.rel(revisions) == [1, 2, 3, 4]
    assert store.delete("absent") == 0
    assert harness.rel(store.txn([], []).revision) == 4
    store.get("c")
    store.list("")
    assert harness.rel(store.revision()) == 4


def test_list_returns_exactly_the_prefix_sorted_by_key_and_its_revision(
    harness: Harness, store: Store
) -> None:
    keys = ["a/z", "a/b", "a", "a0", "a/é", "b/a/x", "a/", "a/b/c", "a/\U0001f600", "a/Z"]
    for key in keys:
        store.put(key, key.encode())
    listing, rev = store.list("a/")
    assert [kv.key for kv in listing] == sorted(k for k in keys if k.startswith("a/"))
    assert [kv.value for kv in listing] == [kv.key.encode() for kv in listing]
    assert rev == store.revision()
    assert harness.rel(rev) == len(keys)
    assert [kv.key for kv in store.list("")[0]] == sorted(keys)
    assert store.list("c")[0] == []


def test_delete_prefix_removes_only_the_prefix_in_one_revision(store: Store) -> None:
    for key in ["p/1", "p/2", "p/3/x", "p", "q/1"]:
        store.put(key, b"v")
    before = store.revision()
    assert store.delete("p/", prefix=True) == 3
    assert store.revision() == before + 1
    assert [kv.key for kv in store.list("")[0]] == ["p", "q/1"]
    assert summary(drain(store, "", before + 1)) == [
        ("delete", "p/1", before + 1),
        ("delete", "p/2", before + 1),
        ("delete", "p/3/x", before + 1),
    ]


@pytest.mark.parametrize(
    "call",
    [lambda s: s.put("", b"x"), lambda s: s.put("k", "text"), lambda s: s.delete("")],
    ids=["put-empty-key", "put-str-value", "delete-empty-key"],
)
def test_bad_arguments_are_caller_bugs_and_change_nothing(
    harness: Harness, store: Store, call: Callable[[Store], object]
) -> None:
    with pytest.raises((ValueError, TypeError)):
        call(store)
    assert harness.rel(store.revision()) == 0


# -- transactions ---------------------------------------------------------------------------

# key "k" is put twice (b"v1" at revision 1, b"v2" at revision 3; "x" at revision 2), so
# k: create 1, mod 3, version 2, value b"v2"; "absent" has version/create/mod 0 and no value,
# and a VALUE compare on it fails whatever the op, as in etcd's applyCompare.  CREATE and MOD
# revisions here are relative to the test's start (Harness.at).
COMPARES = [
    ("absent-version-0", Compare.absent("absent"), True),
    ("absent-create-0", Compare("absent", Target.CREATE, Op.EQUAL, 0), True),
    ("absent-mod-0", Compare.unchanged("absent", 0), True),
    ("absent-value-equal", Compare("absent", Target.VALUE, Op.EQUAL, b""), False),
    ("absent-value-not-equal", Compare("absent", Target.VALUE, Op.NOT_EQUAL, b"x"), False),
    ("present-is-not-absent", Compare.absent("k"), False),
    ("cas-current-mod", Compare.unchanged("k", 3), True),
    ("cas-stale-mod", Compare.unchanged("k", 1), False),
    ("create-revision", Compare("k", Target.CREATE, Op.EQUAL, 1), True),
    ("version-equal", Compare("k", Target.VERSION, Op.EQUAL, 2), True),
    ("version-greater", Compare("k", Target.VERSION, Op.GREATER, 1), True),
    ("version-less", Compare("k", Target.VERSION, Op.LESS, 2), False),
    ("mod-not-equal", Compare("k", Target.MOD, Op.NOT_EQUAL, 3), False),
    ("value-equal", Compare("k", Target.VALUE, Op.EQUAL, b"v2"), True),
    ("value-stale", Compare("k", Target.VALUE, Op.EQUAL, b"v1"), False),
    ("value-less", Compare("k", Target.VALUE, Op.LESS, b"v3"), True),
    ("value-greater", Compare("k", Target.VALUE, Op.GREATER, b"v3"), False),
]


@pytest.mark.parametrize(
    ("compare", "holds"), [c[1:] for c in COMPARES], ids=[c[0] for c in COMPARES]
)
def test_compare_semantics_like_etcd(
    harness: Harness, store: Store, compare: Compare, holds: bool
) -> None:
    store.put("k", b"v1")
    store.put("x", b"")
    store.put("k", b"v2")
    result = store.txn([harness.at(compare)], [Put("then", b"")], [Put("otherwise", b"")])
    assert result.succeeded is holds
    assert harness.rel(result.revision) == 4
    assert [kv.key for kv in store.list("")[0]] == ["k", "otherwise" if not holds else "then", "x"]


def test_txn_runs_then_only_when_every_compare_holds(harness: Harness, store: Store) -> None:
    store.put("a", b"1")
    both = [Compare.absent("b"), Compare("a", Target.VALUE, Op.EQUAL, b"1")]
    one_fails = [Compare.absent("b"), Compare("a", Target.VALUE, Op.EQUAL, b"2")]
    assert not store.txn(one_fails, [Put("then", b"")], [Put("otherwise", b"")]).succeeded
    assert store.txn(both, [Put("then", b"")], [Put("otherwise", b"2")]).succeeded
    assert store.get("then") is not None
    assert harness.rel(store.get("otherwise")) == KeyValue("otherwise", b"", 2, 2)


def test_txn_ops_share_one_revision_in_op_order(harness: Harness, store: Store) -> None:
    store.put("old/1", b"x")
    store.put("old/2", b"x")
    result = store.txn([], [Put("new/b", b"1"), Delete("old/", prefix=True), Put("new/a", b"2")])
    assert result == kvstore.TxnResult(True, harness.rev(3))
    assert {kv.mod_revision for kv in store.list("new/")[0]} == {harness.rev(3)}
    assert harness.rel(summary(drain(store, "", harness.rev(3)))) == [
        ("put", "new/b", 3),
        ("delete", "old/1", 3),
        ("delete", "old/2", 3),
        ("put", "new/a", 3),
    ]


def test_failed_txn_with_no_otherwise_makes_no_revision(harness: Harness, store: Store) -> None:
    store.put("a", b"1")
    result = store.txn([Compare.absent("a")], [Put("a", b"2")])
    assert result == kvstore.TxnResult(False, harness.rev(1))
    assert harness.rel(store.get("a")) == KeyValue("a", b"1", 1, 1)


def test_cas_loses_to_a_writer_that_came_first(harness: Harness, store: Store) -> None:
    other = harness.open()
    store.put("counter", b"1")
    seen = store.get("counter")
    assert seen is not None
    other.put("counter", b"2")
    lost = store.txn([Compare.unchanged("counter", seen.mod_revision)], [Put("counter", b"2")])
    assert not lost.succeeded
    assert harness.rel(store.get("counter")) == KeyValue("counter", b"2", 1, 2, version=2)


@pytest.mark.parametrize(
    "then",
    [
        [Put("a", b"1"), Put("a", b"2")],
        [Put("p/a", b"1"), Delete("p/", prefix=True)],
        [Put("a", b"1"), Delete("a")],
    ],
    ids=["same-key-twice", "put-inside-deleted-prefix", "put-and-delete-one-key"],
)
def test_txn_rejects_overlapping_ops_like_etcd(
    harness: Harness, store: Store, then: list[Put | Delete]
) -> None:
    with pytest.raises(ValueError):
        store.txn([], then)
    assert harness.rel(store.revision()) == 0


def test_txn_that_fails_midway_changes_nothing(harness: Harness, store: Store) -> None:
    store.put("a", b"1")
    with pytest.raises(NotFound):
        store.txn([], [Put("b", b"1"), Delete("a"), Put("c", b"1", lease=424242)])
    assert [kv.key for kv in store.list("")[0]] == ["a"]
    assert harness.rel(store.revision()) == 1


# -- watches --------------------------------------------------------------------------------


def test_watch_lists_existing_keys_then_listed_then_live_changes(
    harness: Harness, store: Store
) -> None:
    store.put("w/b", b"1")
    store.put("w/a", b"2")
    store.put("elsewhere", b"3")
    watch = store.watch("w/", timeout=0)
    head = [next(watch) for _ in range(3)]
    assert harness.rel(summary(head)) == [("put", "w/a", 2), ("put", "w/b", 1), ("listed", "", 3)]
    assert harness.rel(head[0].kv) == KeyValue("w/a", b"2", 2, 2)
    store.put("w/c", b"4")
    store.put("elsewhere", b"5")
    store.delete("w/b")
    assert harness.rel(summary(list(watch))) == [("put", "w/c", 4), ("delete", "w/b", 6)]


def test_watch_delivers_changes_made_by_another_thread_and_client(harness: Harness) -> None:
    store, writer = harness.open(), harness.open()
    watch = store.watch("t/", timeout=30)
    assert next(watch).type is EventType.LISTED

    def write() -> None:
        for i in range(5):
            writer.put(f"t/{i}", str(i).encode())

    thread = threading.Thread(target=write)
    thread.start()
    got = [next(watch) for _ in range(5)]
    thread.join()
    assert [(e.key, e.kv.value if e.kv else None) for e in got] == [
        (f"t/{i}", str(i).encode()) for i in range(5)
    ]
    assert harness.rel([e.revision for e in got]) == [1, 2, 3, 4, 5]


def test_watch_from_revision_gives_each_change_once_in_order(
    harness: Harness, store: Store
) -> None:
    store.put("r/a", b"1")  # 1
    store.put("x", b"1")  # 2
    store.put("r/a", b"2")  # 3
    store.txn([], [Put("r/b", b"1"), Delete("r/a")])  # 4
    store.put("r/b", b"2", lease=0)  # 5
    events = drain(store, "r/", harness.rev(3))
    assert harness.rel(events) == [
        Event(EventType.PUT, KeyValue("r/a", b"2", 1, 3, version=2), 3),
        Event(EventType.PUT, KeyValue("r/b", b"1", 4, 4), 4),
        Event(EventType.DELETE, KeyValue("r/a", b"", 0, 4, version=0), 4),
        Event(EventType.PUT, KeyValue("r/b", b"2", 4, 5, version=2), 5),
    ]
    assert harness.rel(summary(drain(store, "r/", harness.rev(1))))[:1] == [("put", "r/a", 1)]
    assert drain(store, "r/", harness.rev(6)) == []


def test_watch_from_a_future_revision_waits_for_it(harness: Harness, store: Store) -> None:
    store.put("f/a", b"1")
    watch = store.watch("f/", from_revision=harness.rev(3), timeout=0)
    store.put("f/a", b"2")  # 2: before from_revision
    store.put("f/a", b"3")  # 3
    assert harness.rel(summary(list(watch))) == [("put", "f/a", 3)]


def test_watch_from_a_compacted_revision_raises_compacted(harness: Harness) -> None:
    store = harness.open(history=8)
    for i in range(100):
        store.put(f"c/{i % 3}", str(i).encode())
    with pytest.raises(Compacted) as caught:
        store.watch("c/", from_revision=harness.rev(1))
    assert 1 < harness.rel(caught.value.compact_revision) <= 100 - 7
    kept = drain(store, "c/", harness.rev(93))
    assert harness.rel([e.revision for e in kept]) == list(range(93, 101))


def test_a_watcher_that_falls_behind_the_history_gets_compacted(harness: Harness) -> None:
    store = harness.open(history=8)
    store.put("s/a", b"0")
    watch = store.watch("s/", from_revision=harness.rev(1), timeout=0)
    assert harness.rel(next(watch).revision) == 1
    for i in range(50):
        store.put("s/a", str(i).encode())
    with pytest.raises(Compacted):
        list(watch)


def test_watch_relist_after_compaction_resumes_without_gaps(harness: Harness) -> None:
    store = harness.open(history=4)
    for i in range(40):
        store.put(f"k/{i % 5}", str(i).encode())
    listing, rev = store.list("k/")
    store.put("k/0", b"new")
    assert {kv.key: kv.value for kv in listing}["k/0"] == b"35"
    assert summary(drain(store, "k/", rev + 1)) == [("put", "k/0", rev + 1)]


# -- leases ---------------------------------------------------------------------------------


def test_lease_keys_vanish_together_when_it_expires(harness: Harness, store: Store) -> None:
    lease = store.lease_grant(harness.ttl)
    store.put("l/a", b"1", lease=lease)
    store.put("l/b", b"1", lease=lease)
    store.put("l/keep", b"1")
    assert harness.rel(store.get("l/a")) == KeyValue("l/a", b"1", 1, 1, lease=lease)
    watch = store.watch("l/", timeout=harness.expiry_wait)
    assert [next(watch).type for _ in range(4)][-1] is EventType.LISTED
    harness.let_leases_expire()
    expired = [next(watch), next(watch)]
    assert harness.rel(summary(expired)) == [("delete", "l/a", 4), ("delete", "l/b", 4)]
    assert [kv.key for kv in store.list("l/")[0]] == ["l/keep"]
    assert harness.rel(store.revision()) == 4
    assert not store.lease_keepalive(lease)
    with pytest.raises(NotFound):
        store.put("l/c", b"1", lease=lease)


def test_lease_keys_stay_until_the_ttl_has_passed(harness: Harness, store: Store) -> None:
    harness.require_fake_clock()
    store.put("l/a", b"1", lease=store.lease_grant(10))
    harness.advance(9.9)
    assert store.get("l/a") is not None
    harness.advance(0.2)
    assert store.get("l/a") is None


def test_lease_keepalive_renews_for_the_full_ttl(harness: Harness, store: Store) -> None:
    harness.require_fake_clock()
    lease = store.lease_grant(10)
    store.put("k", b"1", lease=lease)
    for _ in range(3):
        harness.advance(8)
        assert store.lease_keepalive(lease)
    harness.advance(9.5)
    assert store.get("k") is not None
    harness.advance(1)
    assert store.get("k") is None
    assert not store.lease_keepalive(lease)


def test_lease_keepalive_says_whether_the_lease_is_alive(store: Store) -> None:
    lease = store.lease_grant(60)
    assert store.lease_keepalive(lease)
    store.lease_revoke(lease)
    assert not store.lease_keepalive(lease)
    assert not store.lease_keepalive(987_654_321)


def test_lease_revoke_deletes_its_keys_in_one_revision(harness: Harness, store: Store) -> None:
    lease = store.lease_grant(60)
    other = store.lease_grant(60)
    store.txn([], [Put("v/a", b"", lease=lease), Put("v/b", b"", lease=lease)])
    store.put("v/c", b"", lease=other)
    store.lease_revoke(lease)
    assert harness.rel(store.revision()) == 3
    revoked = drain(store, "v/", harness.rev(3))
    assert harness.rel(summary(revoked)) == [("delete", "v/a", 3), ("delete", "v/b", 3)]
    assert [kv.key for kv in store.list("v/")[0]] == ["v/c"]
    store.lease_revoke(lease)  # already gone: a no-op
    assert harness.rel(store.revision()) == 3


def test_put_without_lease_detaches_the_key_from_its_lease(harness: Harness, store: Store) -> None:
    lease = store.lease_grant(harness.ttl)
    store.put("d", b"1", lease=lease)
    store.put("marker", b"", lease=lease)
    store.put("d", b"2")
    watch = store.watch("marker", from_revision=harness.rev(4), timeout=harness.expiry_wait)
    harness.let_leases_expire()
    assert harness.rel(summary([next(watch)])) == [("delete", "marker", 4)]
    assert harness.rel(store.get("d")) == KeyValue("d", b"2", 1, 3, version=2, lease=0)


def test_expired_leases_of_another_client_are_reaped_by_any_operation(harness: Harness) -> None:
    harness.require_fake_clock()  # etcd expires leases itself, without any client
    first, second = harness.open(), harness.open()
    first.put("e", b"1", lease=first.lease_grant(1))
    harness.advance(2)
    assert harness.rel(second.revision()) == 2
    assert first.get("e") is None


# -- lifecycle and opening ------------------------------------------------------------------


def test_committed_state_survives_reopening(harness: Harness, store: Store) -> None:
    if not harness.persistent:
        pytest.skip(f"the {harness.name} store lives only as long as its object")
    store.put("a", b"1")
    store.txn([], [Put("b", b"2"), Delete("a")])
    store.close()
    again = harness.open()
    assert harness.rel(again.list("")) == ([KeyValue("b", b"2", 2, 2)], 2)
    history = harness.rel(summary(drain(again, "", harness.rev(1))))
    assert history == [("put", "a", 1), ("put", "b", 2), ("delete", "a", 2)]


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.get("a"),
        lambda s: s.list(""),
        lambda s: s.put("a", b""),
        lambda s: s.delete("a"),
        lambda s: s.txn([], []),
        lambda s: s.watch(""),
        lambda s: s.lease_grant(1),
        lambda s: s.lease_keepalive(1),
        lambda s: s.lease_revoke(1),
        lambda s: s.revision(),
    ],
    ids=[
        "get",
        "list",
        "put",
        "delete",
        "txn",
        "watch",
        "grant",
        "keepalive",
        "revoke",
        "revision",
    ],
)
def test_a_closed_store_is_unavailable(store: Store, call: Callable[[Store], object]) -> None:
    store.close()
    with pytest.raises(StoreUnavailable):
        call(store)


def test_closing_the_store_ends_a_blocked_watch_with_unavailable(store: Store) -> None:
    watch = store.watch("", timeout=30)
    assert next(watch).type is EventType.LISTED
    closer = threading.Timer(0, store.close)
    closer.start()
    with pytest.raises(StoreUnavailable):
        next(watch)
    closer.join()


def test_open_store_memory_is_fresh_each_call() -> None:
    first = open_store("memory://")
    first.put("a", b"1")
    assert isinstance(first, MemoryStore)
    assert open_store("memory://").get("a") is None


@pytest.mark.parametrize("form", ["url", "path"])
def test_open_store_sqlite_by_url_or_path_creates_parents(tmp_path: Path, form: str) -> None:
    path = tmp_path / "deep" / "er" / "store.db"
    with open_store(f"sqlite://{path}" if form == "url" else str(path)) as store:
        assert store.url == f"sqlite://{path}"
        store.put("a", b"1")
    with SQLiteStore(path) as again:
        assert again.get("a") == KeyValue("a", b"1", 1, 1)


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("etcd://127.0.0.1:1,127.0.0.2:1", StoreUnavailable),
        ("zookeeper://h:1", InvalidArgument),
        ("sqlite://", InvalidArgument),
        ("", InvalidArgument),
    ],
    ids=["etcd-unreachable", "unknown-scheme", "sqlite-no-path", "empty"],
)
def test_open_store_refuses_what_it_cannot_open(url: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        open_store(url)


@pytest.mark.parametrize("obstacle", ["parent-is-a-file", "not-a-database"])
def test_open_store_sqlite_unopenable_file_is_unavailable(tmp_path: Path, obstacle: str) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_bytes(b"this is not a sqlite database, just some bytes " * 100)
    path = blocker / "store.db" if obstacle == "parent-is-a-file" else blocker
    with pytest.raises(StoreUnavailable) as caught:
        open_store(str(path))
    assert str(path) in caught.value.message


def test_public_surface_is_all_and_all_of_it_is_importable() -> None:
    ours = {
        name
        for name, value in vars(kvstore).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith("cmesh.kvstore")
    }
    assert ours <= set(kvstore.__all__)
    assert [name for name in kvstore.__all__ if not hasattr(kvstore, name)] == []
    assert kvstore.__all__ == sorted(kvstore.__all__)
