"""What every kvstore backend does with transaction ops before and after applying them.

It owns the rules the backends share so that memory, SQLite and etcd agree exactly: which op
lists are caller bugs (:func:`check_ops`, run before anything changes, so a refusal changes
nothing), the error for a put with a dead lease (:func:`lease_not_found`), the shape of a
DELETE event's key-value (:func:`deleted`), and where a prefix's keys end in byte order
(:func:`prefix_end`).  Pure functions: no I/O, no state.
"""

from __future__ import annotations

from collections.abc import Sequence

from cmesh.errors import NotFound
from cmesh.kvstore.types import Delete, KeyValue, Put, TxnOp


def check_ops(ops: Sequence[TxnOp]) -> None:
    """Reject what etcd rejects in one transaction branch, before anything changes.

    An empty key (other than ``Delete("", prefix=True)``, "everything"), a value that is not
    ``bytes``, two puts of one key, or a put of a key that a delete in the same branch covers.
    These are bugs in the caller, hence ``ValueError``/``TypeError`` and not a ``CmeshError``.

    >>> check_ops([Put("a", b"1"), Delete("b/", prefix=True)])
    >>> check_ops([Put("b/x", b"1"), Delete("b/", prefix=True)])
    Traceback (most recent call last):
    ValueError: key 'b/x' is both put and deleted in one transaction
    """
    puts: set[str] = set()
    for op in ops:
        if not op.key and not (isinstance(op, Delete) and op.prefix):
            raise ValueError("kvstore keys must not be empty")
        if isinstance(op, Put):
            if not isinstance(op.value, bytes):
                raise TypeError(f"value of {op.key!r} must be bytes, not {type(op.value).__name__}")
            if op.key in puts:
                raise ValueError(f"key {op.key!r} is put twice in one transaction")
            puts.add(op.key)
    # Linear in the ops: the flow ring writes hundreds of puts and evicting deletes at once.
    for op in ops:
        if not isinstance(op, Delete):
            continue
        if op.prefix:
            clash = next((key for key in puts if key.startswith(op.key)), None)
        else:
            clash = op.key if op.key in puts else None
        if clash is not None:
            raise ValueError(f"key {clash!r} is both put and deleted in one transaction")


def lease_not_found(lease: int) -> NotFound:
    """The error for a put with a lease that expired, was revoked or never existed."""
    return NotFound(
        f"lease {lease} not found (expired or revoked)",
        hint="grant a new lease and put the key again",
    )


def deleted(key: str, revision: int) -> KeyValue:
    """The ``kv`` of a DELETE event: only the key and the delete's revision, as in etcd."""
    return KeyValue(key, b"", create_revision=0, mod_revision=revision, version=0, lease=0)


def prefix_end(prefix: bytes) -> bytes | None:
    """The smallest key above every key starting with ``prefix``; ``None`` when there is none.

    Keys are UTF-8, which has no 0xFF byte, so the last byte below 0xFF is the one to raise.

    >>> prefix_end(b"a/"), prefix_end(b""), prefix_end(b"\\xff")
    (b'a0', None, None)
    """
    for i in range(len(prefix) - 1, -1, -1):
        if prefix[i] < 0xFF:
            return prefix[:i] + bytes([prefix[i] + 1])
    return None
