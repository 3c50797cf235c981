"""The one kvstore interface every backend implements (memory, sqlite, etcd).

The interface stays small and generic (STYLE.md, "The store"): get, list by prefix, put,
delete, one transaction primitive, watch from a revision, leases and the current revision.
Mesh concepts are mapped onto keys elsewhere (``cmesh.registry``, ``cmesh.mesh``), never here.

Contract shared by all backends (tests/kvstore/test_contract.py runs it against each):

* The revision is store-wide and strictly increasing; every successful write (a put, a delete
  that removed something, a transaction whose ops ran) creates exactly one new revision, shared
  by all ops of a transaction.
* Every method is atomic: it either happens entirely or not at all.  A process killed in the
  middle of a call leaves the store as it was before the call or as it is after it.
* Failures to reach the backend raise :class:`~cmesh.errors.StoreUnavailable`; nothing else of
  the backend's own exceptions escapes.
* Watches deliver every change after ``from_revision`` in revision order, exactly once.  A
  revision that has been compacted raises :class:`~cmesh.errors.Compacted`; the caller relists.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence

from cmesh.kvstore.types import Compare, Event, KeyValue, TxnOp, TxnResult


class Store(abc.ABC):
    """Abstract kvstore.  Backends are chosen by URL scheme in :func:`cmesh.kvstore.open_store`."""

    #: The URL this store was opened with (``memory://``, ``sqlite:///path``, ``etcd://h:p``).
    url: str = ""

    @abc.abstractmethod
    def get(self, key: str) -> KeyValue | None:
        """The key's current value, or ``None``.  Reads are linearizable."""

    @abc.abstractmethod
    def list(self, prefix: str) -> tuple[list[KeyValue], int]:
        """Every key starting with ``prefix``, sorted by key, and the revision of the snapshot."""

    @abc.abstractmethod
    def put(self, key: str, value: bytes, *, lease: int = 0) -> int:
        """Write one key; returns the new revision.  ``lease`` attaches the key to a lease."""

    @abc.abstractmethod
    def delete(self, key: str, *, prefix: bool = False) -> int:
        """Delete a key (or a prefix); returns the number of keys deleted."""

    @abc.abstractmethod
    def txn(
        self,
        compares: Sequence[Compare],
        then: Sequence[TxnOp],
        otherwise: Sequence[TxnOp] = (),
    ) -> TxnResult:
        """Evaluate all ``compares`` and run ``then`` if every one holds, else ``otherwise``.

        Atomic and isolated: no other writer interleaves between the comparison and the ops.
        ``TxnResult.revision`` is the store revision after the transaction.
        """

    @abc.abstractmethod
    def watch(
        self,
        prefix: str,
        from_revision: int | None = None,
        *,
        timeout: float | None = None,
    ) -> Iterator[Event]:
        """Events for keys under ``prefix``.

        Without ``from_revision``: first a PUT for every existing key, then one LISTED event
        carrying the listing's revision, then changes after it.  With ``from_revision``: the
        changes with revision >= ``from_revision`` (no listing, no LISTED).

        The iterator blocks waiting for changes; with ``timeout`` it ends after that many seconds
        without a change.  Closing the generator stops the watch.  Raises
        :class:`~cmesh.errors.Compacted` when ``from_revision`` is older than the history kept.
        """

    @abc.abstractmethod
    def lease_grant(self, ttl: float) -> int:
        """Create a lease of ``ttl`` seconds; keys put with it vanish when it expires."""

    @abc.abstractmethod
    def lease_keepalive(self, lease: int) -> bool:
        """Renew a lease for its full TTL; ``False`` when it has already expired."""

    @abc.abstractmethod
    def lease_revoke(self, lease: int) -> None:
        """End a lease now, deleting its keys (in one revision)."""

    @abc.abstractmethod
    def revision(self) -> int:
        """The current store revision."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections and files; the store is unusable afterwards."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
