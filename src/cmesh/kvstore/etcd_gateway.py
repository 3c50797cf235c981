"""The wire to etcd: its v3 grpc-gateway (JSON over HTTP/1.1) on one of several endpoints.

What it owns: one urllib3 connection pool per endpoint for unary calls (``/v3/kv/range``,
``/v3/kv/txn``, ``/v3/lease/grant``, …), the open streaming calls (``/v3/watch``), the shared
TLS context, which endpoint is current, and the translation of every failure to reach etcd
into :class:`~cmesh.errors.StoreUnavailable`.  It knows nothing of keys or events: bodies
are JSON dicts and keys and values are base64 as the gateway wants them (see :func:`b64`).

Failover: a call goes to the endpoint that answered last and, when that one cannot be reached,
to the others in the order given; the one that answers becomes current.  A call is retried on
the next endpoint only when it certainly did not reach etcd (no connection, TLS refused) or is
``idempotent`` (reads, keepalive, revoke).  A write whose request was sent but whose answer
was lost is not retried, since it may have been applied: it raises StoreUnavailable saying the
outcome is unknown.  Nothing here sleeps, except :meth:`Gateway.pause` for callers' backoff.

Failure contract: foreign exceptions (urllib3, socket, ssl, malformed answers) are classified
in :func:`_failure`, the one place they enter, and surface only as StoreUnavailable whose
message names every endpoint tried and why it failed.  etcd's own refusals (a gRPC status in
the answer) are :class:`Rejected` when the caller lists the code in ``accept``; the rest become
StoreUnavailable (``ValueError`` for "duplicate key", a caller bug etcd caught first).

Streams (:mod:`.etcd_stream`) get their own socket each; the gateway opens them with the same
failover and translates their failures in :meth:`Gateway.read`.  :meth:`Gateway.close` shuts
every open stream's socket down, which wakes a reader blocked in another thread.
"""

from __future__ import annotations

import base64
import ssl
import threading
from dataclasses import dataclass

import orjson
import urllib3

from cmesh.errors import StoreUnavailable
from cmesh.kvstore.etcd_config import Endpoint, EtcdConfig
from cmesh.kvstore.etcd_stream import Json, Stream

# gRPC status codes etcd puts in ``code`` (google.golang.org/grpc/codes).
INVALID_ARGUMENT = 3
NOT_FOUND = 5
OUT_OF_RANGE = 11
UNAVAILABLE = 14

_HEADERS = {"Content-Type": "application/json"}
#: What a request is, for messages ("cannot reach etcd … for a read").
_WHAT = {
    "kv/range": "a read",
    "kv/put": "a put",
    "kv/deleterange": "a delete",
    "kv/txn": "a transaction",
    "lease/grant": "a lease grant",
    "lease/keepalive": "a lease keepalive",
    "lease/revoke": "a lease revoke",
    "watch": "a watch",
}
_FOREIGN = (urllib3.exceptions.HTTPError, OSError, ValueError)


def b64(data: str | bytes) -> str:
    """Base64 of a key (UTF-8) or value, as the gateway's JSON carries ``bytes`` fields."""
    raw = data.encode() if isinstance(data, str) else data
    return base64.b64encode(raw).decode("ascii")


def unb64(text: str | None) -> bytes:
    """Bytes of a base64 field; an absent field (etcd omits empty values) is ``b""``."""
    return base64.b64decode(text) if text else b""


class Rejected(Exception):
    """etcd refused a request with a gRPC status the caller said it handles (``accept``)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{message} (gRPC code {code})")
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class _Failure:
    """Why one endpoint failed one request."""

    endpoint: Endpoint
    reason: str
    sent: bool  # the request may have reached etcd (and a write may have been applied)
    tls: bool = False


def _failure(endpoint: Endpoint, exc: BaseException) -> _Failure:
    """Classify a foreign exception: the one place urllib3, socket and ssl errors enter."""
    if isinstance(exc, urllib3.exceptions.SSLError | ssl.SSLError | ssl.CertificateError):
        return _Failure(endpoint, f"TLS failed: {exc}", sent=False, tls=True)
    if isinstance(exc, urllib3.exceptions.NewConnectionError | ConnectionRefusedError):
        return _Failure(endpoint, "connection refused or unreachable", sent=False)
    if isinstance(exc, urllib3.exceptions.ConnectTimeoutError):
        return _Failure(endpoint, "timed out connecting", sent=False)
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError | TimeoutError):
        return _Failure(endpoint, "timed out waiting for the answer", sent=True)
    if isinstance(exc, ValueError):  # orjson, int(), a malformed chunk: not etcd answering
        return _Failure(endpoint, f"malformed answer ({exc}); is this etcd 3.4+?", sent=True)
    reason = (
        str(exc.__context__ or exc)
        if isinstance(exc, urllib3.exceptions.ProtocolError)
        else str(exc)
    )
    return _Failure(endpoint, f"connection lost ({reason})", sent=True)


def _unreachable(config: EtcdConfig, failures: list[_Failure], path: str) -> StoreUnavailable:
    what = _WHAT.get(path, path)
    detail = "; ".join(f"{f.endpoint}: {f.reason}" for f in failures)
    hint = (
        "check that etcd runs there (`etcdctl --endpoints="
        + ",".join(str(e) for e in config.endpoints)
        + " endpoint health`) or point --kvstore at a reachable member"
    )
    if not config.tls:
        hint += "; if etcd serves TLS there, use etcds:// with cacert=, cert=, key="
    if any(f.tls for f in failures):
        hint = (
            "check the TLS options: cacert= must be the CA that signed etcd's certificate (its"
            " SAN must match the host), and with etcd's --client-cert-auth, cert=/key= must be"
            " signed by a CA in its --trusted-ca-file"
        )
    return StoreUnavailable(f"cannot reach {config.describe()} for {what}: {detail}", hint=hint)


def _outcome_unknown(failure: _Failure, path: str) -> StoreUnavailable:
    what = _WHAT.get(path, path)
    return StoreUnavailable(
        f"etcd at {failure.endpoint} did not answer {what} after receiving it"
        f" ({failure.reason}); it may or may not have been applied",
        hint="read the keys back to see whether it happened, then retry if it did not",
    )


def _refused(config: EtcdConfig, code: int, message: str, path: str) -> Exception:
    """etcd's refusal that the caller does not handle: what it means and what to do."""
    what = _WHAT.get(path, path)
    if "duplicate key" in message:
        return ValueError(f"etcd refused {what}: {message}")
    hint = "see etcd's log; this is a problem of the etcd cluster, not of the request"
    if "too many operations" in message:
        hint = "start etcd with a larger --max-txn-ops (default 128), or write less at once"
    elif "too large" in message:
        hint = "start etcd with a larger --max-request-bytes (default 1.5 MiB), or write less"
    elif code in (7, 16):  # PERMISSION_DENIED, UNAUTHENTICATED
        hint = "etcd has auth enabled; give cmesh a client certificate whose CN is a user"
    return StoreUnavailable(
        f"{config.describe()} refused {what}: {message} (gRPC code {code})", hint=hint
    )


class Gateway:
    """Calls to etcd's grpc-gateway with failover; thread-safe."""

    def __init__(self, config: EtcdConfig) -> None:
        self.config = config
        self._ssl = config.ssl_context()
        timeout = urllib3.Timeout(connect=config.timeout, read=config.timeout)
        self._pools: list[urllib3.HTTPConnectionPool] = [
            urllib3.HTTPSConnectionPool(
                e.host, e.port, ssl_context=self._ssl, timeout=timeout, maxsize=8, retries=False
            )
            if e.tls
            else urllib3.HTTPConnectionPool(
                e.host, e.port, timeout=timeout, maxsize=8, retries=False
            )
            for e in config.endpoints
        ]
        self._current = 0
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._streams: set[Stream] = set()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def check_open(self) -> None:
        if self._closed.is_set():
            raise StoreUnavailable(
                f"{self.config.url} store is closed", hint="open a new store with open_store()"
            )

    def _order(self) -> list[int]:
        n = len(self._pools)
        return [(self._current + i) % n for i in range(n)]

    def call(
        self, path: str, body: Json, *, idempotent: bool, accept: tuple[int, ...] = ()
    ) -> Json:
        """POST ``body`` to ``/v3/<path>``; the answer, failing over between endpoints."""
        self.check_open()
        payload = orjson.dumps(body)
        failures: list[_Failure] = []
        for index in self._order():
            endpoint = self.config.endpoints[index]
            try:
                response = self._pools[index].urlopen(
                    "POST", f"/v3/{path}", body=payload, headers=_HEADERS
                )
                answer: Json = orjson.loads(response.data)
                if not isinstance(answer, dict):
                    raise ValueError(f"HTTP {response.status} with a non-object body")
            except _FOREIGN as exc:
                failure = _failure(endpoint, exc)
                self.check_open()
                if failure.sent and not idempotent:
                    raise _outcome_unknown(failure, path) from exc
                failures.append(failure)
                continue
            code = answer.get("code")
            if response.status != 200 or code:
                code = int(code or 0)
                message = str(answer.get("message") or answer.get("error") or response.status)
                if code in accept:
                    raise Rejected(code, message)
                if code == UNAVAILABLE:
                    failure = _Failure(endpoint, message, sent=message.startswith("etcdserver:"))
                    if failure.sent and not idempotent:
                        raise _outcome_unknown(failure, path)
                    failures.append(failure)
                    continue
                raise _refused(self.config, code, message, path)
            self._current = index
            return answer
        raise _unreachable(self.config, failures, path)

    def stream(self, path: str, body: Json) -> Stream:
        """Open a streaming POST (``watch``) on a fresh socket, failing over like :meth:`call`."""
        self.check_open()
        payload = orjson.dumps(body)
        failures: list[_Failure] = []
        for index in self._order():
            endpoint = self.config.endpoints[index]
            try:
                stream = Stream.open(endpoint, self._ssl, path, payload, self.config.timeout)
            except _FOREIGN as exc:
                failures.append(_failure(endpoint, exc))
                self.check_open()
                continue
            with self._lock:
                self._streams.add(stream)
            if self._closed.is_set():  # closed while connecting: close() missed this one
                self.release(stream)
                self.check_open()
            self._current = index
            return stream
        raise _unreachable(self.config, failures, path)

    def read(self, stream: Stream, deadline: float | None) -> Json | None:
        """The stream's next message (None at ``deadline``); StoreUnavailable if it broke."""
        try:
            return stream.read(deadline)
        except _FOREIGN as exc:
            self.check_open()
            failure = _failure(stream.endpoint, exc)
            raise StoreUnavailable(
                f"lost the watch stream from etcd at {stream.endpoint}: {failure.reason}",
                hint="the watch reconnects by itself; if this persists, check etcd's health",
            ) from exc

    def release(self, stream: Stream) -> None:
        """Close a stream opened by :meth:`stream`."""
        with self._lock:
            self._streams.discard(stream)
        stream.close()

    def pause(self, seconds: float) -> None:
        """Wait ``seconds`` (a retry backoff), returning early when the gateway is closed."""
        self._closed.wait(max(seconds, 0.0))

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            streams = list(self._streams)
        for stream in streams:
            stream.shutdown()
        for pool in self._pools:
            pool.close()
