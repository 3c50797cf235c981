"""The in-memory kvstore backend: one process, plain dicts, etcd semantics.

What it owns: the current key-values (a dict plus a sorted key list for prefix ranges), the
event history used by watch-from-revision, the leases, and the store revision.  It is the
store the tests of every other layer use (STYLE.md, "Fake the I/O seam").

Theory of operation:

* One lock guards all state; a condition on it wakes blocked watchers on every new revision.
* A write first validates everything that could fail (empty or duplicate keys, unknown lease)
  and only then mutates, so a failure changes nothing.  A write that changes at least one key
  is exactly one new revision, shared by all its ops; a write that changes nothing (deleting an
  absent key, a transaction branch with no ops) creates none, as in etcd.
* The history is a list of events in revision order, trimmed from the front in whole
  revisions once it exceeds ``history`` events; ``_compacted`` is the newest revision trimmed,
  and a watch that needs it raises :class:`~cmesh.errors.Compacted`.
* Leases expire by the injected ``clock`` (seconds).  Expired leases are reaped lazily at the
  start of every operation, watches included: all keys of all expired leases are deleted in
  one revision.  Tests advance a fake clock instead of sleeping.
* Watches take their listing (or check ``from_revision``) when :meth:`MemoryStore.watch` is
  called, then stream from the history; events are yielded outside the lock.

Failure contract: nothing here touches I/O, so the only :class:`~cmesh.errors.StoreUnavailable`
is "store closed".  Caller bugs (empty key, duplicate key in a transaction, non-bytes value)
raise ``ValueError``/``TypeError``; a put with an unknown lease raises
:class:`~cmesh.errors.NotFound`.
"""

from __future__ import annotations

import bisect
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from cmesh.errors import Compacted, StoreUnavailable
from cmesh.kvstore.ops import check_ops, deleted, lease_not_found
from cmesh.kvstore.store import Store
from cmesh.kvstore.types import Compare, Delete, Event, EventType, KeyValue, Put, TxnOp, TxnResult

#: Events kept for watch-from-revision before the oldest revisions are compacted.
DEFAULT_HISTORY = 100_000

Clock = Callable[[], float]
# Spelled once here: inside the Store classes, ``list`` in an annotation is the method.
_KVs = list[KeyValue]
_Events = list[Event]


@dataclass(slots=True)
class _Lease:
    ttl: float
    expires_at: float
    keys: set[str] = field(default_factory=set)


def _revision_of(event: Event) -> int:
    return event.revision


class MemoryStore(Store):
    """A thread-safe in-memory :class:`Store`; a fresh, empty one per instance."""

    def __init__(
        self,
        *,
        clock: Clock = time.monotonic,
        history: int = DEFAULT_HISTORY,
        url: str = "memory://",
    ) -> None:
        if history < 1:
            raise ValueError("history must keep at least one event")
        self.url = url
        self._clock = clock
        self._history = history
        self._slack = history // 16
        self._cond = threading.Condition(threading.Lock())
        self._kv: dict[str, KeyValue] = {}
        self._keys: list[str] = []
        self._events: _Events = []
        self._leases: dict[int, _Lease] = {}
        self._next_expiry = math.inf
        self._last_lease = 0
        self._rev = 0
        self._compacted = 0
        self._closed = False

    # -- reads -------------------------------------------------------------------------

    def get(self, key: str) -> KeyValue | None:
        with self._cond:
            self._enter()
            return self._kv.get(key)

    def list(self, prefix: str) -> tuple[_KVs, int]:
        with self._cond:
            self._enter()
            return self._listing(prefix)

    def revision(self) -> int:
        with self._cond:
            self._enter()
            return self._rev

    # -- writes ------------------------------------------------------------------------

    def put(self, key: str, value: bytes, *, lease: int = 0) -> int:
        """Write one key in one new revision; NotFound when ``lease`` is not alive."""
        ops = [Put(key, value, lease)]
        check_ops(ops)
        with self._cond:
            self._enter()
            self._apply(ops)
            return self._rev

    def delete(self, key: str, *, prefix: bool = False) -> int:
        """Delete in one revision (none when nothing matched); the number of keys deleted."""
        ops = [Delete(key, prefix)]
        check_ops(ops)
        with self._cond:
            self._enter()
            return self._apply(ops)

    def txn(
        self,
        compares: Sequence[Compare],
        then: Sequence[TxnOp],
        otherwise: Sequence[TxnOp] = (),
    ) -> TxnResult:
        """Compare and run one branch under the lock; a new revision only if a key changed."""
        check_ops(then)
        check_ops(otherwise)
        with self._cond:
            self._enter()
            succeeded = all(c.holds(self._kv.get(c.key)) for c in compares)
            self._apply(then if succeeded else otherwise)
            return TxnResult(succeeded, self._rev)

    # -- leases ------------------------------------------------------------------------

    def lease_grant(self, ttl: float) -> int:
        if ttl <= 0:
            raise ValueError(f"lease TTL must be positive, not {ttl}")
        with self._cond:
            self._enter()
            self._last_lease += 1
            self._leases[self._last_lease] = _Lease(ttl, self._clock() + ttl)
            self._next_expiry = min(self._next_expiry, self._leases[self._last_lease].expires_at)
            return self._last_lease

    def lease_keepalive(self, lease: int) -> bool:
        with self._cond:
            self._enter()  # reaps it first if it has expired
            found = self._leases.get(lease)
            if found is None:
                return False
            found.expires_at = self._clock() + found.ttl
            self._refresh_next_expiry()
            return True

    def lease_revoke(self, lease: int) -> None:
        """Delete the lease's keys in one revision; a no-op for an unknown or expired lease."""
        with self._cond:
            self._enter()
            found = self._leases.pop(lease, None)
            if found is not None:
                self._delete_keys(sorted(found.keys))
                self._refresh_next_expiry()

    # -- watches -----------------------------------------------------------------------

    def watch(
        self,
        prefix: str,
        from_revision: int | None = None,
        *,
        timeout: float | None = None,
    ) -> Iterator[Event]:
        """See :meth:`Store.watch`; the listing is taken (or Compacted raised) by this call."""
        with self._cond:
            self._enter()
            if from_revision is None:
                listing, rev = self._listing(prefix)
                head = [Event(EventType.PUT, kv, kv.mod_revision) for kv in listing]
                head.append(Event(EventType.LISTED, None, rev))
                start = rev + 1
            else:
                start = max(from_revision, 1)
                self._check_kept(start)
                head = []
        return self._stream(prefix, head, start, timeout)

    def _stream(
        self, prefix: str, head: _Events, start: int, timeout: float | None
    ) -> Iterator[Event]:
        yield from head
        next_rev = start
        while True:
            deadline = None if timeout is None else time.monotonic() + timeout
            with self._cond:
                while True:
                    self._enter()
                    batch: _Events = []
                    if self._rev >= next_rev:
                        self._check_kept(next_rev)
                        first = bisect.bisect_left(self._events, next_rev, key=_revision_of)
                        batch = [e for e in self._events[first:] if e.key.startswith(prefix)]
                        next_rev = self._rev + 1
                    if batch:
                        break
                    if deadline is not None and time.monotonic() >= deadline:
                        return
                    self._cond.wait(self._wait_time(deadline))
            yield from batch

    def _wait_time(self, deadline: float | None) -> float | None:
        """How long a watcher may block: until its deadline or the next lease expiry."""
        waits: list[float] = []
        if deadline is not None:
            waits.append(deadline - time.monotonic())
        if self._leases:
            waits.append(min(max(self._next_expiry - self._clock(), 0.001), 1.0))
        return max(min(waits), 0.0) if waits else None

    # -- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    # -- internals (call with the lock held) -------------------------------------------

    def _enter(self) -> None:
        """Every operation starts here: refuse a closed store, reap expired leases."""
        if self._closed:
            raise StoreUnavailable(
                f"{self.url} store is closed", hint="open a new store with open_store()"
            )
        if self._clock() >= self._next_expiry:
            now = self._clock()
            expired = [lid for lid, lease in self._leases.items() if lease.expires_at <= now]
            keys = sorted(k for lid in expired for k in self._leases.pop(lid).keys)
            self._delete_keys(keys)
            self._refresh_next_expiry()

    def _refresh_next_expiry(self) -> None:
        self._next_expiry = min(
            (lease.expires_at for lease in self._leases.values()), default=math.inf
        )

    def _range(self, prefix: str) -> tuple[int, int]:
        """The slice of ``_keys`` starting with ``prefix``."""
        lo = hi = bisect.bisect_left(self._keys, prefix)
        while hi < len(self._keys) and self._keys[hi].startswith(prefix):
            hi += 1
        return lo, hi

    def _listing(self, prefix: str) -> tuple[_KVs, int]:
        return [self._kv[k] for k in self._keys[slice(*self._range(prefix))]], self._rev

    def _check_kept(self, revision: int) -> None:
        if revision <= self._compacted:
            raise Compacted(revision, self._compacted + 1)

    def _apply(self, ops: Sequence[TxnOp]) -> int:
        """Run checked ``ops`` as one revision; the number of keys changed (0: no revision)."""
        for op in ops:
            if isinstance(op, Put) and op.lease and op.lease not in self._leases:
                raise lease_not_found(op.lease)
        rev = self._rev + 1
        events: _Events = []
        for op in ops:
            if isinstance(op, Put):
                events.append(self._put_one(op, rev))
            elif op.prefix:
                lo, hi = self._range(op.key)
                doomed = self._keys[lo:hi]
                del self._keys[lo:hi]  # one slice, not one list shift per key
                events.extend(self._forget(k, rev) for k in doomed)
            elif op.key in self._kv:
                events.append(self._delete_one(op.key, rev))
        self._commit(events, rev)
        return len(events)

    def _delete_keys(self, keys: Sequence[str]) -> None:
        """Delete existing ``keys`` in one revision (none if ``keys`` is empty)."""
        rev = self._rev + 1
        self._commit([self._delete_one(k, rev) for k in keys], rev)

    def _put_one(self, op: Put, rev: int) -> Event:
        old = self._kv.get(op.key)
        if old is None:
            bisect.insort(self._keys, op.key)
            create, version = rev, 1
        else:
            self._detach(old)
            create, version = old.create_revision, old.version + 1
        kv = KeyValue(op.key, op.value, create, rev, version, op.lease)
        self._kv[op.key] = kv
        if op.lease:
            self._leases[op.lease].keys.add(op.key)
        return Event(EventType.PUT, kv, rev)

    def _delete_one(self, key: str, rev: int) -> Event:
        del self._keys[bisect.bisect_left(self._keys, key)]
        return self._forget(key, rev)

    def _forget(self, key: str, rev: int) -> Event:
        """Drop ``key`` from the dict and its lease (not from ``_keys``): its DELETE event."""
        self._detach(self._kv.pop(key))
        return Event(EventType.DELETE, deleted(key, rev), rev)

    def _detach(self, kv: KeyValue) -> None:
        lease = self._leases.get(kv.lease) if kv.lease else None
        if lease is not None:
            lease.keys.discard(kv.key)

    def _commit(self, events: _Events, rev: int) -> None:
        """Record the events of revision ``rev``, trim the history and wake watchers."""
        if not events:
            return
        self._rev = rev
        self._events.extend(events)
        excess = len(self._events) - self._history
        if excess > self._slack:
            cut = excess
            while (
                cut < len(self._events)
                and self._events[cut].revision == self._events[cut - 1].revision
            ):
                cut += 1
            self._compacted = self._events[cut - 1].revision
            del self._events[:cut]
        self._cond.notify_all()
