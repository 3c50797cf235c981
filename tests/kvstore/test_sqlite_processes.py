"""The SQLite store shared by OS processes: isolation of ``txn``, durability across SIGKILL.

Each child is ``sys.executable -c <script>`` on the same file.  Children report over stdout
and are released over stdin, so ordering comes from pipes, never from sleeping.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cmesh.errors import StoreUnavailable
from cmesh.kvstore import EventType, SQLiteStore, open_store

CAS_INCREMENTER = """
import sys
from cmesh.kvstore import Compare, Put, open_store

store = open_store(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
retries = 0
for _ in range(int(sys.argv[2])):
    while True:
        kv = store.get("counter")
        count = int(kv.value) if kv else 0
        guard = Compare.unchanged("counter", kv.mod_revision if kv else 0)
        if store.txn([guard], [Put("counter", str(count + 1).encode())]).succeeded:
            break
        retries += 1
print(retries, flush=True)
store.close()
"""

PAIR_WRITER = """
import sys
from cmesh.kvstore import Put, open_store

store = open_store(sys.argv[1])
i = 0
while True:
    i += 1
    value = str(i).encode()
    result = store.txn([], [Put(f"a/{i:08d}", value), Put(f"b/{i:08d}", value)])
    print(i, result.revision, flush=True)
"""

LOCK_HOLDER = """
import sqlite3, sys

conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""


def child(script: str, *args: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *map(str, args)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("fresh_file", [True, False], ids=["fresh-file", "existing-file"])
def test_concurrent_cas_increments_from_two_processes_lose_no_update(
    tmp_path: Path, fresh_file: bool
) -> None:
    path = tmp_path / "store.db"
    if not fresh_file:
        SQLiteStore(path).close()
    per_process, processes = 300, 2
    children = [child(CAS_INCREMENTER, path, per_process) for _ in range(processes)]
    for proc in children:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    for proc in children:  # release both only once both have opened the store
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in children:
        proc.communicate(timeout=120)
        assert proc.returncode == 0

    total = per_process * processes
    with SQLiteStore(path) as store:
        counter = store.get("counter")
        assert counter is not None
        assert (counter.value, counter.version, counter.create_revision) == (
            str(total).encode(),
            total,
            1,
        )
        history = list(store.watch("counter", from_revision=1, timeout=0))
        assert [e.kv.value for e in history if e.kv] == [
            str(n).encode() for n in range(1, total + 1)
        ]
        assert [e.revision for e in history] == list(range(1, total + 1))


def test_sigkill_midway_keeps_every_committed_txn_and_only_whole_ones(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    writer = child(PAIR_WRITER, path)
    assert writer.stdout is not None
    committed: list[tuple[int, int]] = []
    while len(committed) < 300:
        line = writer.stdout.readline()
        assert line, "the writer died before it was killed"
        committed.append(tuple(map(int, line.split())))  # type: ignore[arg-type]
    writer.send_signal(signal.SIGKILL)
    rest, _ = writer.communicate(timeout=60)
    committed += [tuple(map(int, line.split())) for line in rest.splitlines()]  # type: ignore[misc]
    assert writer.returncode == -signal.SIGKILL
    assert committed == [(i, i) for i in range(1, len(committed) + 1)]

    with SQLiteStore(path) as store:
        last = store.revision()
        assert last >= len(committed)  # a txn may commit after its last report was written
        for prefix in ("a/", "b/"):
            kvs, rev = store.list(prefix)
            assert rev == last
            assert [(kv.key, kv.value, kv.mod_revision) for kv in kvs] == [
                (f"{prefix}{i:08d}", str(i).encode(), i) for i in range(1, last + 1)
            ]
        events = list(store.watch("", from_revision=1, timeout=0))
        assert all(e.type is EventType.PUT for e in events)
        assert [e.revision for e in events] == [i for i in range(1, last + 1) for _ in "ab"]
        assert store.put("after", b"restart") == last + 1


def test_writer_blocked_beyond_busy_timeout_is_unavailable_then_recovers(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with SQLiteStore(path) as store:
        store.put("a", b"1")
    holder = child(LOCK_HOLDER, path)
    assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
    try:
        with SQLiteStore(path, busy_timeout=0.2) as store:
            assert store.get("a") is not None  # WAL readers are never blocked by a writer
            with pytest.raises(StoreUnavailable) as caught:
                store.put("a", b"2")
            assert "locked" in caught.value.message
            assert "write lock" in caught.value.hint
            holder.communicate("release\n", timeout=60)
            assert store.put("a", b"2") == 2
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    with open_store(f"sqlite://{path}") as store:
        assert store.get("a") is not None and store.revision() == 2
