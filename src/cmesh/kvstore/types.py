"""Values exchanged with a :class:`~cmesh.kvstore.store.Store`: key-values, events, txn ops.

The shapes follow etcd's v3 API so that the etcd backend maps onto them one to one:
revisions are store-wide and strictly increasing, every key-value carries the revision that
created it and the one that last modified it, and a transaction is a list of comparisons
followed by the operations to run when all of them hold (``then``) or when any fails
(``otherwise``).  Keys are ``str`` (UTF-8 on the wire), values are ``bytes``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KeyValue:
    """One stored key with its value and etcd-style revision metadata."""

    key: str
    value: bytes
    create_revision: int
    mod_revision: int
    version: int = 1
    lease: int = 0


class EventType(enum.Enum):
    PUT = "put"
    DELETE = "delete"
    #: The initial listing of a watch is complete; ``revision`` is the listing's revision.
    LISTED = "listed"


@dataclass(frozen=True, slots=True)
class Event:
    """A watch event.  For DELETE, ``kv.value`` is empty and ``kv.mod_revision`` is the delete's."""

    type: EventType
    kv: KeyValue | None
    revision: int

    @property
    def key(self) -> str:
        return self.kv.key if self.kv is not None else ""


class Target(enum.Enum):
    """What a :class:`Compare` looks at, as in etcd's ``Compare.target``."""

    VALUE = "value"
    VERSION = "version"
    CREATE = "create"
    MOD = "mod"


class Op(enum.Enum):
    EQUAL = "=="
    NOT_EQUAL = "!="
    LESS = "<"
    GREATER = ">"


@dataclass(frozen=True, slots=True)
class Compare:
    """A transaction guard on one key.

    A missing key has version, create and mod revision 0 and no value, exactly as in etcd, so
    ``Compare(key, Target.VERSION, Op.EQUAL, 0)`` means "key does not exist" and
    ``Compare(key, Target.MOD, Op.EQUAL, kv.mod_revision)`` is compare-and-swap.  A VALUE
    compare on a missing key never holds, whatever its op (etcd ``applyCompare``: "nil ==
    empty string in grpc; no way to represent missing value"): guard with VERSION instead.
    """

    key: str
    target: Target
    op: Op
    value: int | bytes

    @staticmethod
    def absent(key: str) -> Compare:
        return Compare(key, Target.VERSION, Op.EQUAL, 0)

    @staticmethod
    def unchanged(key: str, mod_revision: int) -> Compare:
        return Compare(key, Target.MOD, Op.EQUAL, mod_revision)

    def holds(self, kv: KeyValue | None) -> bool:
        """Evaluate against the current state of the key (``None`` when absent)."""
        if self.target is Target.VALUE:
            if kv is None:
                return False
            actual: int | bytes = kv.value
        elif self.target is Target.VERSION:
            actual = kv.version if kv else 0
        elif self.target is Target.CREATE:
            actual = kv.create_revision if kv else 0
        else:
            actual = kv.mod_revision if kv else 0
        want = self.value
        if self.op is Op.EQUAL:
            return actual == want
        if self.op is Op.NOT_EQUAL:
            return actual != want
        if self.op is Op.LESS:
            return actual < want  # type: ignore[operator]
        return actual > want  # type: ignore[operator]


@dataclass(frozen=True, slots=True)
class Put:
    key: str
    value: bytes
    lease: int = 0


@dataclass(frozen=True, slots=True)
class Delete:
    """Delete ``key``; with ``prefix=True`` every key that starts with it."""

    key: str
    prefix: bool = False


TxnOp = Put | Delete


@dataclass(frozen=True, slots=True)
class TxnResult:
    succeeded: bool
    revision: int
