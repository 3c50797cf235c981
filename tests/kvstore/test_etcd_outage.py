"""etcd goes away and comes back: calls fail with StoreUnavailable, watches resume or relist.

Each test starts its own etcd (it stops it); ``stop`` is SIGTERM and waits for the PID to exit,
``start`` reuses the data dir and ports and waits for /health.  The watch's design (module
docstring of cmesh/kvstore/etcd_watch.py): an outage shorter than ``reconnect_timeout`` is
invisible to the consumer, which gets every event after it exactly once, resumed from the last
revision delivered; a longer one raises StoreUnavailable, and a resume point that etcd compacted
meanwhile raises Compacted, so the consumer relists.  Threads hand events over queues; every
wait has a timeout and none is a sleep.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from cmesh.errors import Compacted, StoreUnavailable
from cmesh.kvstore import EtcdStore, Event, EventType
from tests.etcd import EtcdServer, running_etcd

pytestmark = pytest.mark.etcd

WAIT = 30.0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EtcdServer]:
    with running_etcd(tmp_path) as etcd:
        yield etcd


def consume(watch: Iterator[Event]) -> queue.Queue[Event | BaseException]:
    """Read ``watch`` in a daemon thread; events, then the exception that ended it, arrive."""
    out: queue.Queue[Event | BaseException] = queue.Queue()

    def run() -> None:
        try:
            for event in watch:
                out.put(event)
        except BaseException as exc:  # handed to the test, which asserts on it
            out.put(exc)

    threading.Thread(target=run, daemon=True).start()
    return out


def take(events: queue.Queue[Event | BaseException], n: int) -> list[tuple[str, str, int]]:
    got: list[tuple[str, str, int]] = []
    for _ in range(n):
        item = events.get(timeout=WAIT)
        if isinstance(item, BaseException):
            raise item
        got.append((item.type.value, item.key, item.revision))
    return got


def test_calls_fail_during_an_outage_and_a_watch_resumes_after_it_exactly_once(
    server: EtcdServer,
) -> None:
    store = EtcdStore(server.url, reconnect_timeout=60)
    for i in range(3):
        store.put(f"o/{i}", b"before")
    watch = store.watch("o/")
    assert [next(watch).type for _ in range(4)][-1] is EventType.LISTED
    events = consume(watch)
    live = store.put("o/live", b"1")
    assert take(events, 1) == [("put", "o/live", live)]  # the stream is open and read

    server.stop()
    for call in (lambda: store.get("o/0"), lambda: store.put("o/x", b""), store.revision):
        with pytest.raises(StoreUnavailable) as caught:
            call()
        assert server.endpoint in caught.value.message
    with pytest.raises(StoreUnavailable):
        list(store.watch("o/", timeout=0))

    server.start()
    with EtcdStore(server.url) as writer:
        after = [writer.put(f"o/after{i}", b"x") for i in range(5)]
        writer.delete("o/0")
        gone = writer.revision()
        marker = writer.put("o/marker", b"")
    assert take(events, 7) == [
        *[("put", f"o/after{i}", rev) for i, rev in enumerate(after)],
        ("delete", "o/0", gone),
        ("put", "o/marker", marker),  # nothing repeated before it, nothing lost
    ]
    assert store.get("o/live") is not None
    store.close()
    with pytest.raises(StoreUnavailable):
        take(events, 1)


def test_a_watch_that_must_resume_from_a_compacted_revision_raises_compacted(
    server: EtcdServer,
) -> None:
    store = EtcdStore(server.url)
    watch = store.watch("c/")
    assert next(watch).type is EventType.LISTED
    first = store.put("c/a", b"0")
    assert next(watch).revision == first  # the stream is open; the watch is suspended here

    server.stop()
    server.start()
    with EtcdStore(server.url) as writer:
        latest = max(writer.put("c/a", str(i).encode()) for i in range(10))
    server.compact(latest)
    with pytest.raises(Compacted) as caught:
        next(watch)  # finds its stream dead, resumes at first + 1: compacted meanwhile
    assert (caught.value.requested, caught.value.compact_revision) == (first + 1, latest)
    store.close()


def test_a_watch_gives_up_after_reconnect_timeout_so_the_caller_relists(
    server: EtcdServer,
) -> None:
    store = EtcdStore(server.url, reconnect_timeout=0.5)
    watch = store.watch("g/")
    assert next(watch).type is EventType.LISTED
    events = consume(watch)
    written = store.put("g/a", b"")
    assert take(events, 1) == [("put", "g/a", written)]

    server.stop()
    with pytest.raises(StoreUnavailable) as caught:
        take(events, 1)
    assert "relist" in caught.value.hint
    server.start()
    listing, _ = store.list("g/")  # the relist works once etcd is back
    assert [kv.key for kv in listing] == ["g/a"]
    store.close()
