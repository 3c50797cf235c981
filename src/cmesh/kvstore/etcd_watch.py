"""Watches on etcd: follow a key range from a revision, resuming across lost connections.

It owns the watch streams of :class:`~cmesh.kvstore.etcd.EtcdStore` (the listing and the
``LISTED`` marker are the store's; this module streams what comes after).  Theory of operation:

* A :class:`Tail` is one etcd watch (``/v3/watch``) over ``[lo, hi)`` and the revision it will
  resume from, ``next``: one past the newest event it has returned.  etcd sends all events of
  one revision in one response, so resuming from ``next`` after a lost connection neither
  repeats nor skips an event.  While etcd cannot be reached the tail retries every endpoint with
  backoff (50 ms doubling to 1 s) for up to ``reconnect`` seconds, then raises
  :class:`~cmesh.errors.StoreUnavailable`: the caller relists when etcd is back.  A resume point
  etcd has compacted meanwhile raises :class:`~cmesh.errors.Compacted` (relist, too).
* :func:`follow` drives a tail over a prefix.  A watch with a ``timeout`` ends only once it has
  delivered every change up to the store's revision at that moment, so a watch drained with
  ``timeout=0`` returns exactly what was committed before it ended.  A prefix watch cannot
  tell that it is caught up (it sees no revisions of other keys), so at the timeout
  :func:`catch_up` replays the whole keyspace from the last delivered revision to the current
  one, keeping the prefix's events; every revision has at least one event, so it knows when
  it has reached the end.  That replay is the price of a timed watch; untimed watches (agents)
  never pay it.
* etcd hands a watch whose start revision is in the past its history every 100 ms
  (``syncWatchersLoop``), 1,000 revisions at a time, so such a watch starts up to 100 ms late.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from cmesh.errors import Compacted, StoreUnavailable
from cmesh.kvstore.etcd_gateway import Gateway, b64, unb64
from cmesh.kvstore.etcd_stream import Json, Stream
from cmesh.kvstore.ops import deleted, prefix_end
from cmesh.kvstore.types import Event, EventType, KeyValue

_FIRST_BACKOFF = 0.05
_MAX_BACKOFF = 1.0
_ALL = (b"\0", b"\0")  # etcd's "every key" range


def key_range(prefix: str) -> tuple[bytes, bytes]:
    """``(key, range_end)`` of every key starting with ``prefix`` (everything for "").

    A ``range_end`` of ``\\0`` is etcd's "every key from ``key`` on".
    """
    if not prefix:
        return _ALL
    key = prefix.encode()
    return key, prefix_end(key) or b"\0"


def kv_of(raw: Json) -> KeyValue:
    """A gateway ``mvccpb.KeyValue`` (int64 fields are strings; zero fields are omitted)."""
    return KeyValue(
        unb64(raw.get("key")).decode(),
        unb64(raw.get("value")),
        int(raw.get("create_revision", 0)),
        int(raw.get("mod_revision", 0)),
        int(raw.get("version", 0)),
        int(raw.get("lease", 0)),
    )


def events_of(result: Json) -> list[Event]:
    """The events of one watch response, in etcd's order (revision, then op order)."""
    found: list[Event] = []
    for raw in result.get("events", ()):
        kv = kv_of(raw["kv"])
        if raw.get("type") == "DELETE":
            found.append(Event(EventType.DELETE, deleted(kv.key, kv.mod_revision), kv.mod_revision))
        else:
            found.append(Event(EventType.PUT, kv, kv.mod_revision))
    return found


class Tail:
    """One resumable etcd watch over ``[lo, hi)`` from revision :attr:`next`."""

    def __init__(self, gateway: Gateway, lo: bytes, hi: bytes, start: int, reconnect: float):
        self.next = start
        self._gateway = gateway
        self._range = {"key": b64(lo), "range_end": b64(hi)}
        self._reconnect = reconnect
        self._stream: Stream | None = None
        self._failing_since: float | None = None
        self._backoff = _FIRST_BACKOFF

    def batch(self, deadline: float | None) -> list[Event] | None:
        """The events of the next response, or ``None`` when ``deadline`` passes first."""
        while True:
            if self._stream is None and not self._connect(deadline):
                return None
            assert self._stream is not None
            try:
                message = self._gateway.read(self._stream, deadline)
            except StoreUnavailable as exc:
                self._lost(exc)
                continue
            if message is None:
                return None
            result = message.get("result")
            if not isinstance(result, dict):  # the gateway's {"error": …}: the stream broke
                self._lost(StoreUnavailable(f"etcd at {self._stream.endpoint}: {message}"))
                continue
            self._failing_since, self._backoff = None, _FIRST_BACKOFF
            if int(result.get("compact_revision", 0)):
                raise Compacted(self.next, int(result["compact_revision"]))
            if result.get("canceled"):
                reason = result.get("cancel_reason") or "no reason given"
                raise StoreUnavailable(
                    f"etcd at {self._stream.endpoint} canceled a watch: {reason}",
                    hint="watch again; if it persists, check etcd's log",
                )
            events = events_of(result)
            if events:
                self.next = events[-1].revision + 1
                return events

    def _lost(self, exc: StoreUnavailable) -> None:
        """The stream broke: reconnect (after a backoff) unless etcd has been gone too long."""
        self.close()
        self._gateway.check_open()
        now = time.monotonic()
        if self._failing_since is None:
            self._failing_since = now
        elif now - self._failing_since >= self._reconnect:
            raise self._gave_up(exc)

    def _gave_up(self, exc: StoreUnavailable) -> StoreUnavailable:
        return StoreUnavailable(
            f"a watch lost etcd for {self._reconnect:g}s: {exc.message}",
            hint="relist and watch again once etcd is reachable; " + exc.hint,
        )

    def _connect(self, deadline: float | None) -> bool:
        """Open the stream at :attr:`next`; False if ``deadline`` passed while etcd was down."""
        body = {"create_request": {**self._range, "start_revision": self.next}}
        while True:
            if self._failing_since is not None:  # back off before trying again
                wait = self._backoff
                self._backoff = min(self._backoff * 2, _MAX_BACKOFF)
                if deadline is not None:
                    wait = min(wait, deadline - time.monotonic())
                self._gateway.pause(wait)
                self._gateway.check_open()
            try:
                self._stream = self._gateway.stream("watch", body)
                return True
            except StoreUnavailable as exc:
                self._gateway.check_open()
                now = time.monotonic()
                if self._failing_since is None:
                    self._failing_since = now
                elif now - self._failing_since >= self._reconnect:
                    raise self._gave_up(exc) from exc
            if deadline is not None and time.monotonic() >= deadline:
                return False

    def close(self) -> None:
        if self._stream is not None:
            self._gateway.release(self._stream)
            self._stream = None


def follow(
    gateway: Gateway,
    current_revision: Callable[[], int],
    prefix: str,
    start: int,
    timeout: float | None,
    reconnect: float,
) -> Iterator[Event]:
    """Every change under ``prefix`` from revision ``start`` on; see the module docstring."""
    lo, hi = key_range(prefix)
    seen = start - 1  # every change up to here has been delivered
    deadline = None if timeout is None else time.monotonic() + timeout
    tail: Tail | None = None
    try:
        while True:
            if timeout is not None and deadline is not None and time.monotonic() >= deadline:
                if tail is not None:
                    tail.close()
                    tail = None
                target = current_revision()
                if seen >= target:
                    return
                found, seen = catch_up(gateway, prefix, seen + 1, target, reconnect)
                if not found:
                    return
                yield from found
                deadline = time.monotonic() + timeout
                continue
            if tail is None:
                tail = Tail(gateway, lo, hi, seen + 1, reconnect)
            events = tail.batch(deadline)
            if events:
                seen = events[-1].revision
                yield from events
                if timeout is not None:
                    deadline = time.monotonic() + timeout
    finally:
        if tail is not None:
            tail.close()


def catch_up(
    gateway: Gateway, prefix: str, first: int, target: int, reconnect: float
) -> tuple[list[Event], int]:
    """The events under ``prefix`` from ``first`` to at least ``target``, and the last revision.

    Replays the whole keyspace, since only there does every revision show up.
    """
    tail = Tail(gateway, *_ALL, first, reconnect)
    found: list[Event] = []
    try:
        while tail.next <= target:
            events = tail.batch(time.monotonic() + gateway.config.timeout)
            if events is None:
                raise StoreUnavailable(
                    f"{gateway.config.describe()} did not replay revisions {tail.next}..{target}"
                    f" within {gateway.config.timeout:g}s",
                    hint="etcd may be overloaded; retry, or raise ?timeout= in the store URL",
                )
            found.extend(e for e in events if e.key.startswith(prefix))
    finally:
        tail.close()
    return found, tail.next - 1


def compact_revision(gateway: Gateway, prefix: str, start: int) -> int:
    """The oldest revision etcd keeps, once a read at ``start`` said it was compacted.

    etcd's range error does not carry it; a watch from ``start`` is cancelled with it.
    """
    tail = Tail(gateway, *key_range(prefix), start, reconnect=0.0)
    try:
        tail.batch(time.monotonic() + gateway.config.timeout)
    except Compacted as exc:
        return exc.compact_revision
    finally:
        tail.close()
    return start
