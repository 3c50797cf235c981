"""The SQLite kvstore backend: the embedded default, one file shared by every local process.

It owns the store file and its schema: ``kv`` (the current keys), ``history`` (the event log
read by watch-from-revision; type 0 is a put, 1 a delete), ``meta`` (``revision``,
``compacted`` = the newest revision dropped from the history, ``lease_id``) and ``leases``
(expiry in wall-clock seconds, so that every process agrees).  Keys are UTF-8 BLOBs, so
``ORDER BY key`` is byte order, which is code-point order, the order ``str`` sorts in.

Atomicity: every method is one SQLite transaction.  Writes start with ``BEGIN IMMEDIATE``, so
the compare and the ops of :meth:`SQLiteStore.txn` are isolated from every other process;
reads are a snapshot.  WAL mode with ``synchronous=FULL`` (the default): a process killed at
any point loses nothing it committed, and the next opener recovers the WAL.  Writers wait up
to ``busy_timeout`` seconds for the write lock instead of failing.

Every operation first reaps expired leases in its own transaction (all their keys deleted in
one revision), upgrading a read to a write only when some lease has expired.  The history is
trimmed from the front in whole revisions beyond ``history`` events.  Watches poll
``meta.revision`` every ``poll_interval`` seconds and are woken at once by writes made
through the same :class:`SQLiteStore` object.

Failure contract: ``sqlite3`` and ``OSError`` exceptions become
:class:`~cmesh.errors.StoreUnavailable` in :func:`_translated`, the one place they enter (file
cannot be created or opened, not a database, disk I/O error, the write lock held beyond
``busy_timeout``); errors that can only be bugs here (integrity, misuse) propagate unchanged.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from cmesh.errors import Compacted, StoreUnavailable
from cmesh.kvstore.memory import DEFAULT_HISTORY, Clock
from cmesh.kvstore.ops import check_ops, deleted, lease_not_found, prefix_end
from cmesh.kvstore.store import Store
from cmesh.kvstore.types import Compare, Delete, Event, EventType, KeyValue, Put, TxnOp, TxnResult

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY, value BLOB NOT NULL,"
    " create_revision INTEGER NOT NULL, mod_revision INTEGER NOT NULL,"
    " version INTEGER NOT NULL, lease INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS kv_lease ON kv (lease)",
    "CREATE TABLE IF NOT EXISTS history (seq INTEGER PRIMARY KEY, revision INTEGER NOT NULL,"
    " key BLOB NOT NULL, type INTEGER NOT NULL, value BLOB NOT NULL,"
    " create_revision INTEGER NOT NULL, version INTEGER NOT NULL, lease INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS history_revision ON history (revision)",
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
    "INSERT OR IGNORE INTO meta VALUES ('revision', 0), ('compacted', 0), ('lease_id', 0)",
    "CREATE TABLE IF NOT EXISTS leases (id INTEGER PRIMARY KEY, ttl REAL NOT NULL,"
    " expires_at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS leases_expiry ON leases (expires_at)",
)
_KV_COLUMNS = "key, value, create_revision, mod_revision, version, lease"
_HISTORY_INSERT = (
    "INSERT INTO history (revision, key, type, value, create_revision, version, lease)"
)
#: Two subqueries: SQLite answers a lone min() or max() from the index, not both at once.
_HISTORY_BOUNDS = "SELECT (SELECT min(seq) FROM history), (SELECT max(seq) FROM history)"
_PUT, _DELETE = 0, 1
# Spelled once here: inside the Store classes, ``list`` in an annotation is the method.
_KVs = list[KeyValue]
_Events = list[Event]
_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")
#: Revisions a watch reads per query, so that a far-behind watcher reads in bounded chunks.
_WATCH_CHUNK = 1000


@contextlib.contextmanager
def _translated(path: Path, busy_timeout: float) -> Iterator[None]:
    """Turn sqlite3 and OS errors into StoreUnavailable: the one place they enter cmesh."""
    try:
        yield
    except (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError):
        raise  # a bug in this module, not the environment
    except sqlite3.Error as exc:
        hint = "check that the file is a cmesh store and its directory is writable with free space"
        if "locked" in str(exc) or "busy" in str(exc):
            hint = (
                f"another process held the store's write lock for more than {busy_timeout:g}s;"
                " retry, or find the stuck process"
            )
        raise StoreUnavailable(f"sqlite store {path}: {exc}", hint=hint) from exc
    except OSError as exc:
        raise StoreUnavailable(
            f"sqlite store {path}: {exc}", hint="choose a path in a writable directory"
        ) from exc


def _key_range(prefix: str) -> tuple[str, tuple[bytes, ...]]:
    """A WHERE clause selecting the keys that start with ``prefix`` (an index range)."""
    low = prefix.encode()
    high = prefix_end(low)
    return ("key >= ?", (low,)) if high is None else ("key >= ? AND key < ?", (low, high))


def _kv(row: tuple[bytes, bytes, int, int, int, int]) -> KeyValue:
    return KeyValue(row[0].decode(), row[1], row[2], row[3], row[4], row[5])


def _event(row: tuple[int, bytes, int, bytes, int, int, int]) -> Event:
    rev, key, kind, value, create, version, lease = row
    if kind == _DELETE:
        return Event(EventType.DELETE, deleted(key.decode(), rev), rev)
    return Event(EventType.PUT, KeyValue(key.decode(), value, create, rev, version, lease), rev)


class SQLiteStore(Store):
    """A :class:`Store` in one SQLite file; safe across threads and processes."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        clock: Clock = time.time,
        history: int = DEFAULT_HISTORY,
        busy_timeout: float = 30.0,
        synchronous: str = "FULL",
        poll_interval: float = 0.05,
    ) -> None:
        if history < 1:
            raise ValueError("history must keep at least one event")
        if synchronous.upper() not in _SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {', '.join(_SYNCHRONOUS)}")
        self._path = Path(path).expanduser().absolute()
        self.url = f"sqlite://{self._path.as_posix()}"
        self._clock = clock
        self._history = history
        self._slack = history // 16
        self._busy_timeout = busy_timeout
        self._poll_interval = poll_interval
        self._lock = threading.RLock()
        self._changed = threading.Condition()
        self._generation = 0  # bumped after each commit through this object
        self._wrote = False
        self._conn: sqlite3.Connection | None = None
        with _translated(self._path, busy_timeout):
            self._path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self._path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
            try:
                self._init(conn, synchronous.upper())
            except BaseException:
                conn.close()
                raise
        self._conn = conn

    def _init(self, conn: sqlite3.Connection, synchronous: str) -> None:
        # Switching a new file to WAL needs an exclusive lock and fails at once with "database
        # is locked" (no busy handler) while another process opens it too: retry until
        # busy_timeout.  Polling is fine here, once per open at the edge.
        deadline = time.monotonic() + self._busy_timeout
        while True:
            try:
                mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
                if mode != "wal":
                    mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.005)
        if mode != "wal":
            raise StoreUnavailable(
                f"sqlite store {self._path}: cannot use WAL mode (got {mode!r})",
                hint="put the store on a local filesystem",
            )
        conn.execute(f"PRAGMA synchronous={synchronous}")
        tables = (
            "SELECT count(*) FROM sqlite_master WHERE name IN ('kv', 'history', 'meta', 'leases')"
        )
        if conn.execute(tables).fetchone()[0] == 4:
            return  # created by an earlier opener in one transaction: no write lock needed
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA:
                conn.execute(statement)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    # -- reads -------------------------------------------------------------------------

    def get(self, key: str) -> KeyValue | None:
        with self._transaction(write=False) as conn:
            return self._get(conn, key)

    def list(self, prefix: str) -> tuple[_KVs, int]:
        with self._transaction(write=False) as conn:
            return self._listing(conn, prefix)

    def revision(self) -> int:
        with self._transaction(write=False) as conn:
            return self._meta(conn, "revision")

    # -- writes ------------------------------------------------------------------------

    def put(self, key: str, value: bytes, *, lease: int = 0) -> int:
        """Write one key in one new revision; NotFound when ``lease`` is not alive."""
        ops = [Put(key, value, lease)]
        check_ops(ops)
        with self._transaction(write=True) as conn:
            self._apply(conn, ops)
            return self._meta(conn, "revision")

    def delete(self, key: str, *, prefix: bool = False) -> int:
        """Delete in one revision (none when nothing matched); the number of keys deleted."""
        ops = [Delete(key, prefix)]
        check_ops(ops)
        with self._transaction(write=True) as conn:
            return self._apply(conn, ops)

    def txn(
        self,
        compares: Sequence[Compare],
        then: Sequence[TxnOp],
        otherwise: Sequence[TxnOp] = (),
    ) -> TxnResult:
        """Compare and run one branch in one ``BEGIN IMMEDIATE`` transaction."""
        check_ops(then)
        check_ops(otherwise)
        with self._transaction(write=True) as conn:
            succeeded = all(c.holds(self._get(conn, c.key)) for c in compares)
            self._apply(conn, then if succeeded else otherwise)
            return TxnResult(succeeded, self._meta(conn, "revision"))

    # -- leases ------------------------------------------------------------------------

    def lease_grant(self, ttl: float) -> int:
        if ttl <= 0:
            raise ValueError(f"lease TTL must be positive, not {ttl}")
        with self._transaction(write=True) as conn:
            lease = self._meta(conn, "lease_id") + 1
            conn.execute("UPDATE meta SET value = ? WHERE name = 'lease_id'", (lease,))
            conn.execute("INSERT INTO leases VALUES (?, ?, ?)", (lease, ttl, self._clock() + ttl))
            return lease

    def lease_keepalive(self, lease: int) -> bool:
        renew = "UPDATE leases SET expires_at = ? + ttl WHERE id = ?"
        with self._transaction(write=True) as conn:  # reaps it first if it has expired
            return conn.execute(renew, (self._clock(), lease)).rowcount > 0

    def lease_revoke(self, lease: int) -> None:
        """Delete the lease's keys in one revision; a no-op for an unknown or expired lease."""
        with self._transaction(write=True) as conn:
            if conn.execute("DELETE FROM leases WHERE id = ?", (lease,)).rowcount:
                rev = self._meta(conn, "revision") + 1
                if self._delete_where(conn, rev, "lease = ?", (lease,)):
                    self._commit_revision(conn, rev)

    # -- watches -----------------------------------------------------------------------

    def watch(
        self,
        prefix: str,
        from_revision: int | None = None,
        *,
        timeout: float | None = None,
    ) -> Iterator[Event]:
        """See :meth:`Store.watch`; the listing is taken (or Compacted raised) by this call."""
        with self._transaction(write=False) as conn:
            if from_revision is None:
                listing, rev = self._listing(conn, prefix)
                head = [Event(EventType.PUT, kv, kv.mod_revision) for kv in listing]
                head.append(Event(EventType.LISTED, None, rev))
                start = rev + 1
            else:
                start = max(from_revision, 1)
                self._check_kept(conn, start)
                head = []
        return self._stream(prefix, head, start, timeout)

    def _stream(
        self, prefix: str, head: _Events, start: int, timeout: float | None
    ) -> Iterator[Event]:
        yield from head
        where, params = _key_range(prefix)
        next_rev = start
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._changed:
                generation = self._generation
            batch: _Events = []
            with self._transaction(write=False) as conn:
                current = self._meta(conn, "revision")
                if current >= next_rev:
                    self._check_kept(conn, next_rev)
                    upper = min(current, next_rev + _WATCH_CHUNK - 1)
                    rows = conn.execute(
                        "SELECT revision, key, type, value, create_revision, version, lease"
                        f" FROM history WHERE revision BETWEEN ? AND ? AND {where}"
                        " ORDER BY revision, seq",
                        (next_rev, upper, *params),
                    ).fetchall()
                    batch = [_event(row) for row in rows]
                    next_rev = upper + 1
            if batch:
                yield from batch
                deadline = None if timeout is None else time.monotonic() + timeout
                continue
            if current >= next_rev:
                continue  # more chunks to read
            wait = self._poll_interval
            if deadline is not None:
                wait = min(wait, deadline - time.monotonic())
                if wait <= 0:
                    return
            with self._changed:
                if self._generation == generation:
                    self._changed.wait(wait)

    # -- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                with _translated(self._path, self._busy_timeout):
                    self._conn.close()
                self._conn = None
        with self._changed:
            self._changed.notify_all()

    # -- internals ---------------------------------------------------------------------

    @contextlib.contextmanager
    def _transaction(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        """One SQLite transaction, expired leases reaped first; StoreUnavailable on failure."""
        with self._lock, _translated(self._path, self._busy_timeout):
            conn = self._conn
            if conn is None:
                raise StoreUnavailable(
                    f"{self.url} store is closed", hint="open a new store with open_store()"
                )
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                now = self._clock()
                expired = "SELECT 1 FROM leases WHERE expires_at <= ? LIMIT 1"
                if conn.execute(expired, (now,)).fetchone():
                    if not write:  # a read cannot be upgraded safely in WAL: start over
                        conn.execute("ROLLBACK")
                        conn.execute("BEGIN IMMEDIATE")
                    self._reap(conn, now)
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                self._wrote = False
                if conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                raise
            if self._wrote:
                self._wrote = False
                with self._changed:
                    self._generation += 1
                    self._changed.notify_all()

    def _reap(self, conn: sqlite3.Connection, now: float) -> None:
        """Delete the keys of every lease expired at ``now`` in one revision, then the leases."""
        rev = self._meta(conn, "revision") + 1
        expired = "lease IN (SELECT id FROM leases WHERE expires_at <= ?)"
        if self._delete_where(conn, rev, expired, (now,)):
            self._commit_revision(conn, rev)
        conn.execute("DELETE FROM leases WHERE expires_at <= ?", (now,))

    @staticmethod
    def _meta(conn: sqlite3.Connection, name: str) -> int:
        value: int = conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()[0]
        return value

    @staticmethod
    def _get(conn: sqlite3.Connection, key: str) -> KeyValue | None:
        row = conn.execute(f"SELECT {_KV_COLUMNS} FROM kv WHERE key = ?", (key.encode(),))
        found = row.fetchone()
        return None if found is None else _kv(found)

    def _listing(self, conn: sqlite3.Connection, prefix: str) -> tuple[_KVs, int]:
        where, params = _key_range(prefix)
        rows = conn.execute(f"SELECT {_KV_COLUMNS} FROM kv WHERE {where} ORDER BY key", params)
        return [_kv(row) for row in rows], self._meta(conn, "revision")

    def _check_kept(self, conn: sqlite3.Connection, revision: int) -> None:
        compacted = self._meta(conn, "compacted")
        if revision <= compacted:
            raise Compacted(revision, compacted + 1)

    def _apply(self, conn: sqlite3.Connection, ops: Sequence[TxnOp]) -> int:
        """Run checked ``ops`` as one revision; the number of keys changed (0: no revision)."""
        alive = "SELECT 1 FROM leases WHERE id = ?"
        for op in ops:
            if isinstance(op, Put) and op.lease and not conn.execute(alive, (op.lease,)).fetchone():
                raise lease_not_found(op.lease)
        rev = self._meta(conn, "revision") + 1
        changed = 0
        for op in ops:
            if isinstance(op, Put):
                self._put_one(conn, op, rev)
                changed += 1
            elif op.prefix:
                changed += self._delete_where(conn, rev, *_key_range(op.key))
            else:
                changed += self._delete_where(conn, rev, "key = ?", (op.key.encode(),))
        if changed:
            self._commit_revision(conn, rev)
        return changed

    @staticmethod
    def _put_one(conn: sqlite3.Connection, op: Put, rev: int) -> None:
        key = op.key.encode()
        row = conn.execute("SELECT create_revision, version FROM kv WHERE key = ?", (key,))
        old = row.fetchone()
        create, version = (rev, 1) if old is None else (old[0], old[1] + 1)
        conn.execute(
            f"INSERT OR REPLACE INTO kv ({_KV_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            (key, op.value, create, rev, version, op.lease),
        )
        conn.execute(
            f"{_HISTORY_INSERT} VALUES (?, ?, {_PUT}, ?, ?, ?, ?)",
            (rev, key, op.value, create, version, op.lease),
        )

    @staticmethod
    def _delete_where(
        conn: sqlite3.Connection, rev: int, where: str, params: tuple[object, ...]
    ) -> int:
        """Delete the matching keys as DELETE events of ``rev``; how many were deleted."""
        deleted_count = conn.execute(
            f"{_HISTORY_INSERT} SELECT ?, key, {_DELETE}, x'', 0, 0, 0 FROM kv WHERE {where}"
            " ORDER BY key",
            (rev, *params),
        ).rowcount
        if deleted_count:
            conn.execute(f"DELETE FROM kv WHERE {where}", params)
        return deleted_count

    def _commit_revision(self, conn: sqlite3.Connection, rev: int) -> None:
        """Make ``rev`` the current revision and trim the history to ``history`` events."""
        conn.execute("UPDATE meta SET value = ? WHERE name = 'revision'", (rev,))
        self._wrote = True
        first, last = conn.execute(_HISTORY_BOUNDS).fetchone()
        if last - first + 1 <= self._history + self._slack:
            return
        # seq is contiguous (rows are only ever dropped from the front): drop whole revisions
        # up to the one holding the newest event beyond the bound.
        cut = conn.execute("SELECT revision FROM history WHERE seq = ?", (last - self._history,))
        (cut_rev,) = cut.fetchone()
        conn.execute("DELETE FROM history WHERE revision <= ?", (cut_rev,))
        conn.execute("UPDATE meta SET value = max(value, ?) WHERE name = 'compacted'", (cut_rev,))
