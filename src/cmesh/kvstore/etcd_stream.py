"""One streaming HTTP/1.1 POST to etcd's grpc-gateway, read message by message to a deadline.

It owns a socket of its own (TLS-wrapped when the endpoint is https) and the decoding of the
response: the head, the chunked body, and the newline-separated JSON messages in it (one
``WatchResponse`` each, as ``{"result": …}``).  No thread and no buffered HTTP library: the
socket's timeout is set to what is left of the caller's deadline before each ``recv``, since a
timed-out raw socket stays usable while a buffered HTTP response does not.

Failure contract: like a third-party library, it raises foreign exceptions (``OSError`` and
its ``ssl``/timeout subclasses for the connection, ``ValueError`` for an answer that is not a
chunked JSON stream, ``ConnectionResetError`` when etcd ends the stream);
:mod:`.etcd_gateway` translates them in its one place.  :meth:`Stream.shutdown` may be called
from another thread to wake a reader blocked in ``recv``.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import time
from typing import Any

import orjson

from cmesh.kvstore.etcd_config import Endpoint

Json = dict[str, Any]
#: Seconds of silence before TCP probes a watch's peer, then between probes, and probes sent:
#: a vanished etcd host (no FIN) is noticed in about a minute, not Linux's default two hours.
_KEEPALIVE = {"TCP_KEEPIDLE": 30, "TCP_KEEPINTVL": 10, "TCP_KEEPCNT": 3}


class Stream:
    """The JSON messages of one chunked HTTP response."""

    def __init__(self, endpoint: Endpoint, sock: socket.socket) -> None:
        self.endpoint = endpoint
        self._sock = sock
        self._raw = bytearray()  # bytes received and not yet de-chunked
        self._body = bytearray()  # de-chunked bytes not yet split into messages
        self._left = 0  # data bytes of the current chunk not yet moved to _body
        self._crlf = False  # a chunk's data ended: its CRLF comes next

    @classmethod
    def open(
        cls,
        endpoint: Endpoint,
        context: ssl.SSLContext | None,
        path: str,
        payload: bytes,
        timeout: float,
    ) -> Stream:
        """Connect, send ``POST /v3/<path>`` and read the response head (200, chunked)."""
        sock = socket.create_connection((endpoint.host, endpoint.port), timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            for name, value in _KEEPALIVE.items():
                if hasattr(socket, name):
                    sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)
            if context is not None:
                sock = context.wrap_socket(sock, server_hostname=endpoint.host)
            stream = cls(endpoint, sock)
            stream._start(path, payload, timeout)
        except BaseException:
            sock.close()
            raise
        return stream

    def _start(self, path: str, payload: bytes, timeout: float) -> None:
        host = str(self.endpoint).partition("://")[2]
        head = (
            f"POST /v3/{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        )
        self._sock.settimeout(timeout)
        self._sock.sendall(head.encode() + payload)
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self._raw:
            if not self._recv(deadline):
                raise TimeoutError("no answer to the stream request")
        end = self._raw.index(b"\r\n\r\n")
        lines = bytes(self._raw[:end]).decode("latin-1").split("\r\n")
        del self._raw[: end + 4]
        status = lines[0].split(" ", 2)
        if len(status) < 2 or status[1] != "200":
            raise ValueError(f"{lines[0]!r}: {bytes(self._raw[:300])!r}")
        if not any(h.lower().replace(" ", "") == "transfer-encoding:chunked" for h in lines[1:]):
            raise ValueError("the answer is not a chunked stream")

    def read(self, deadline: float | None) -> Json | None:
        """The next message, or ``None`` when ``deadline`` (monotonic) passes first."""
        while True:
            newline = self._body.find(b"\n")
            if newline >= 0:
                line = bytes(self._body[:newline])
                del self._body[: newline + 1]
                if line.strip():
                    message = orjson.loads(line)
                    if not isinstance(message, dict):
                        raise ValueError("a stream message that is not a JSON object")
                    return message
            elif not self._dechunk() and not self._recv(deadline):
                return None

    def _recv(self, deadline: float | None) -> bool:
        """Append what the socket has to ``_raw``; False if ``deadline`` passed first."""
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            return False
        self._sock.settimeout(left)
        try:
            data = self._sock.recv(65536)
        except TimeoutError:
            return False
        if not data:
            raise ConnectionResetError("etcd closed the connection")
        self._raw += data
        return True

    def _dechunk(self) -> bool:
        """Move complete chunk data from ``_raw`` to ``_body``; whether anything moved."""
        moved = False
        while True:
            if self._crlf:
                if len(self._raw) < 2:
                    return moved
                if self._raw[:2] != b"\r\n":
                    raise ValueError("malformed chunked encoding")
                del self._raw[:2]
                self._crlf = False
            if self._left == 0:
                end = self._raw.find(b"\r\n")
                if end < 0:
                    return moved
                size = int(bytes(self._raw[:end]).split(b";")[0], 16)
                del self._raw[: end + 2]
                if size == 0:
                    raise ConnectionResetError("etcd ended the stream")
                self._left = size
            take = min(self._left, len(self._raw))
            if take == 0:
                return moved
            self._body += self._raw[:take]
            del self._raw[:take]
            self._left -= take
            self._crlf = self._left == 0
            moved = True

    def shutdown(self) -> None:
        """Wake a reader blocked in ``recv`` in another thread; it then raises."""
        with contextlib.suppress(OSError):  # already closed: nothing to wake
            self._sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.shutdown()
        self._sock.close()
