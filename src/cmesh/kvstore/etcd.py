"""The etcd kvstore backend: the Store contract on an etcd v3 cluster (etcd 3.4 or newer).

What it owns: the mapping of each :class:`~cmesh.kvstore.store.Store` method onto one etcd v3
request, made through etcd's grpc-gateway (JSON over HTTP, :mod:`.etcd_gateway`), and the
watch's listing.  It keeps no state of its own besides the connection: revisions, versions,
compares, transactions, history and leases are etcd's, which the interface was shaped on::

    Store method          etcd request                       atomicity
    get, list, revision   /v3/kv/range (linearizable)         one snapshot (list: pinned pages)
    put, delete           /v3/kv/put, /v3/kv/deleterange      one revision (none if nothing deleted)
    txn                   /v3/kv/txn                          one revision, compares isolated
    watch                 /v3/kv/range, then /v3/watch        see :mod:`.etcd_watch`
    lease_*               /v3/lease/grant|keepalive|revoke    etcd's

Opening: ``open_store("etcd://HOST:PORT[,HOST:PORT...]")`` (TLS: ``etcds://``, or the options
``cacert``, ``cert``, ``key``; the form is in :mod:`.etcd_config`), or :class:`EtcdStore` with the
same options as keyword arguments.  Opening asks etcd for its revision, so an unreachable or
misconfigured etcd fails there, with StoreUnavailable naming every endpoint.

Leases: etcd counts TTLs in whole seconds, so a TTL is rounded up, and etcd raises it to its
minimum, ``ceil(1.5 × --election-timeout)``: 2 s with the default 1 s election timeout.  etcd
expires leases itself (checked every 500 ms), so expiry needs no reaping by any client.

Where etcd differs from the embedded stores: a fresh etcd is at revision 1, not 0; history is
compacted by etcd's operator (``--auto-compaction-*``), not by a ``history`` bound; a txn holds
at most ``--max-txn-ops`` ops (128 by default) and a request at most ``--max-request-bytes``
(1.5 MiB), beyond which StoreUnavailable says which flag to raise.

Failure contract: every failure to reach etcd is StoreUnavailable, raised by the gateway (the
one place foreign exceptions are translated).  A write whose answer was lost is not retried
and says its outcome is unknown.  Caller bugs (empty key, duplicate key in a txn, non-bytes
value) raise ``ValueError``/``TypeError`` before anything is sent; a put with a lease that is
not alive raises :class:`~cmesh.errors.NotFound`.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import replace

from cmesh.errors import Compacted
from cmesh.kvstore import etcd_watch
from cmesh.kvstore.etcd_config import EtcdConfig
from cmesh.kvstore.etcd_gateway import NOT_FOUND, OUT_OF_RANGE, Gateway, Rejected, b64
from cmesh.kvstore.etcd_stream import Json
from cmesh.kvstore.ops import check_ops, lease_not_found
from cmesh.kvstore.store import Store
from cmesh.kvstore.types import Compare, Delete, Event, EventType, KeyValue, Put, TxnOp, TxnResult

#: Keys per range request of :meth:`EtcdStore.list`; all pages read the first page's revision.
PAGE = 5_000
#: Seconds a watch keeps trying to reach etcd again before it raises StoreUnavailable.
RECONNECT_TIMEOUT = 30.0

# Spelled once here: inside the Store classes, ``list`` in an annotation is the method.
_KVs = list[KeyValue]
_RESULT = {"==": "EQUAL", "!=": "NOT_EQUAL", "<": "LESS", ">": "GREATER"}
_TARGET = {"value": "VALUE", "version": "VERSION", "create": "CREATE", "mod": "MOD"}
_FIELD = {
    "value": "value",
    "version": "version",
    "create": "create_revision",
    "mod": "mod_revision",
}


def _compare(c: Compare) -> Json:
    value = b64(c.value) if isinstance(c.value, bytes) else str(c.value)
    return {
        "key": b64(c.key),
        "target": _TARGET[c.target.value],
        "result": _RESULT[c.op.value],
        _FIELD[c.target.value]: value,
    }


def _op(op: TxnOp) -> Json:
    if isinstance(op, Put):
        put: Json = {"key": b64(op.key), "value": b64(op.value)}
        if op.lease:
            put["lease"] = str(op.lease)
        return {"request_put": put}
    lo, hi = etcd_watch.key_range(op.key) if op.prefix else (op.key.encode(), b"")
    span: Json = {"key": b64(lo)}
    if op.prefix:
        span["range_end"] = b64(hi)
    return {"request_delete_range": span}


def _revision(answer: Json) -> int:
    return int(answer["header"]["revision"])


class EtcdStore(Store):
    """A :class:`Store` on an etcd v3 cluster; safe across threads, processes and machines."""

    def __init__(
        self,
        url: str | EtcdConfig,
        *,
        cacert: str | None = None,
        cert: str | None = None,
        key: str | None = None,
        timeout: float | None = None,
        reconnect_timeout: float = RECONNECT_TIMEOUT,
    ) -> None:
        """Connect to etcd at ``url``; keyword options override the URL's (and imply TLS).

        Raises InvalidArgument for a malformed URL or unreadable TLS files, and
        StoreUnavailable when no endpoint answers.
        """
        config = url if isinstance(url, EtcdConfig) else EtcdConfig.from_url(url)
        files = {"cacert": cacert, "cert": cert, "key": key}
        overrides = {name: value for name, value in files.items() if value is not None}
        if overrides or timeout is not None:
            tls = config.tls or bool(overrides)
            config = replace(
                config,
                endpoints=tuple(replace(e, tls=tls) for e in config.endpoints),
                tls=tls,
                timeout=config.timeout if timeout is None else timeout,
                **overrides,
            )
        self.url = config.url
        self._reconnect = reconnect_timeout
        self._gw = Gateway(config)
        try:
            self.revision()
        except BaseException:
            self._gw.close()
            raise

    # -- reads -------------------------------------------------------------------------

    def get(self, key: str) -> KeyValue | None:
        answer = self._gw.call("kv/range", {"key": b64(key)}, idempotent=True)
        kvs = answer.get("kvs")
        return etcd_watch.kv_of(kvs[0]) if kvs else None

    def list(self, prefix: str) -> tuple[_KVs, int]:
        """Every key under ``prefix`` at one revision, read in pages of :data:`PAGE` keys."""
        lo, hi = etcd_watch.key_range(prefix)
        body: Json = {"key": b64(lo), "range_end": b64(hi), "limit": PAGE}
        found: _KVs = []
        revision = 0
        while True:
            answer = self._gw.call("kv/range", body, idempotent=True)
            if not revision:
                revision = _revision(answer)
                body["revision"] = revision  # later pages read the same snapshot
            page = [etcd_watch.kv_of(raw) for raw in answer.get("kvs", ())]
            found.extend(page)
            if not answer.get("more") or not page:
                return found, revision
            body["key"] = b64(page[-1].key.encode() + b"\0")

    def revision(self) -> int:
        body = {"key": b64(b"\0"), "count_only": True}
        return _revision(self._gw.call("kv/range", body, idempotent=True))

    # -- writes ------------------------------------------------------------------------

    def put(self, key: str, value: bytes, *, lease: int = 0) -> int:
        """Write one key in one new revision; NotFound when ``lease`` is not alive."""
        check_ops([Put(key, value, lease)])
        body = _op(Put(key, value, lease))["request_put"]
        try:
            answer = self._gw.call("kv/put", body, idempotent=False, accept=(NOT_FOUND,))
        except Rejected:
            raise lease_not_found(lease) from None
        return _revision(answer)

    def delete(self, key: str, *, prefix: bool = False) -> int:
        """Delete in one revision (none when nothing matched); the number of keys deleted."""
        check_ops([Delete(key, prefix)])
        body = _op(Delete(key, prefix))["request_delete_range"]
        answer = self._gw.call("kv/deleterange", body, idempotent=False)
        return int(answer.get("deleted", 0))

    def txn(
        self,
        compares: Sequence[Compare],
        then: Sequence[TxnOp],
        otherwise: Sequence[TxnOp] = (),
    ) -> TxnResult:
        """One etcd txn: compares and the chosen branch are isolated and one revision."""
        check_ops(then)
        check_ops(otherwise)
        body = {
            "compare": [_compare(c) for c in compares],
            "success": [_op(op) for op in then],
            "failure": [_op(op) for op in otherwise],
        }
        try:
            answer = self._gw.call("kv/txn", body, idempotent=False, accept=(NOT_FOUND,))
        except Rejected:
            leases = [op.lease for op in (*then, *otherwise) if isinstance(op, Put) and op.lease]
            raise lease_not_found(leases[0] if leases else 0) from None
        return TxnResult(bool(answer.get("succeeded", False)), _revision(answer))

    # -- leases ------------------------------------------------------------------------

    def lease_grant(self, ttl: float) -> int:
        """A lease of ``ceil(ttl)`` seconds, or etcd's minimum TTL if that is longer."""
        if ttl <= 0:
            raise ValueError(f"lease TTL must be positive, not {ttl}")
        answer = self._gw.call("lease/grant", {"TTL": math.ceil(ttl)}, idempotent=False)
        return int(answer["ID"])

    def lease_keepalive(self, lease: int) -> bool:
        answer = self._gw.call("lease/keepalive", {"ID": str(lease)}, idempotent=True)
        return int(answer.get("result", {}).get("TTL", 0)) > 0

    def lease_revoke(self, lease: int) -> None:
        """Delete the lease's keys in one revision; a no-op for an unknown or expired lease."""
        with contextlib.suppress(Rejected):  # NOT_FOUND: already expired or revoked
            self._gw.call("lease/revoke", {"ID": str(lease)}, idempotent=True, accept=(NOT_FOUND,))

    # -- watches -----------------------------------------------------------------------

    def watch(
        self,
        prefix: str,
        from_revision: int | None = None,
        *,
        timeout: float | None = None,
    ) -> Iterator[Event]:
        """See :meth:`Store.watch` and :mod:`.etcd_watch`; listing or Compacted by this call.

        The watch survives an etcd outage shorter than ``reconnect_timeout`` by resuming from
        the last revision it delivered; a longer one raises StoreUnavailable (relist then).
        """
        if from_revision is None:
            listing, revision = self.list(prefix)
            head = [Event(EventType.PUT, kv, kv.mod_revision) for kv in listing]
            head.append(Event(EventType.LISTED, None, revision))
            start = revision + 1
        else:
            start = max(from_revision, 1)
            self._check_kept(prefix, start)
            head = []
        tail = etcd_watch.follow(self._gw, self.revision, prefix, start, timeout, self._reconnect)
        return _chain(head, tail)

    def _check_kept(self, prefix: str, start: int) -> None:
        lo, hi = etcd_watch.key_range(prefix)
        body = {"key": b64(lo), "range_end": b64(hi), "revision": start, "count_only": True}
        try:
            self._gw.call("kv/range", body, idempotent=True, accept=(OUT_OF_RANGE,))
        except Rejected as exc:
            if "compacted" in exc.message:
                raise Compacted(
                    start, etcd_watch.compact_revision(self._gw, prefix, start)
                ) from None
            # "a future revision": nothing is compacted, the watch waits for it

    # -- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        """Close the connections; a watch blocked in another thread raises StoreUnavailable."""
        self._gw.close()


def _chain(head: list[Event], tail: Iterator[Event]) -> Iterator[Event]:
    try:
        yield from head
        yield from tail
    finally:
        close = getattr(tail, "close", None)
        if close is not None:
            close()
