"""A real etcd for tests: Debian's ``etcd-server`` on free loopback ports in a temporary dir.

Any test package can use it: define a fixture that enters :func:`running_etcd` (session scope
is fine, start-up takes about a second) and call :meth:`EtcdServer.wipe` per test.  When the
``etcd`` binary is missing, :func:`require_etcd` skips with the command that installs it
(``./scripts/install-test-servers``, which CI runs).

The server runs with a 10 ms heartbeat and a 100 ms election timeout, so that etcd's minimum
lease TTL (``ceil(1.5 × election timeout)``) is 1 s and lease tests wait about a second, on a
watch, never on a sleep.  :class:`Pki` makes a CA with server and client certificates (EC
P-256, SAN IP:127.0.0.1) and a client certificate from another CA, for the mTLS tests.  Note
that etcd's own grpc-gateway dials etcd with the *server* certificate, so with
``--client-cert-auth`` that certificate needs the clientAuth usage too.

Waiting is done on conditions, never on a clock: start-up polls ``/health`` and uses
``Popen.wait(timeout=…)`` as the pause (which also notices an etcd that died); a stop waits for
the PID to exit, since a dying etcd still answers the health probe.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from base64 import b64encode
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ETCD = shutil.which("etcd")
START_TIMEOUT = 30.0


def require_etcd() -> str:
    """The etcd binary, or skip the test with what to do."""
    if ETCD is None:
        pytest.skip(
            "etcd is not installed (Debian etcd-server): run ./scripts/install-test-servers as root"
        )
    return ETCD


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Pki:
    """A test CA, its server and client certificates, and a client certificate of another CA."""

    directory: Path

    @property
    def ca(self) -> Path:
        return self.directory / "ca.pem"

    def cert(self, name: str) -> Path:
        return self.directory / f"{name}.pem"

    def key(self, name: str) -> Path:
        return self.directory / f"{name}.key"

    @classmethod
    def make(cls, directory: Path) -> Pki:
        """``ca``, ``server`` (SAN IP:127.0.0.1), ``client``, and ``rogue`` (signed by ``rogue-ca``)."""
        directory.mkdir(parents=True, exist_ok=True)
        pki = cls(directory)
        for ca in ("ca", "rogue-ca"):
            pki._key(ca)
            pki._openssl(f"req -x509 -new -key {ca}.key -subj /CN=cmesh-{ca} -days 2 -out {ca}.pem")
        usage = "keyUsage=critical,digitalSignature\nextendedKeyUsage="
        pki._leaf("server", "ca", f"subjectAltName=IP:127.0.0.1\n{usage}serverAuth,clientAuth\n")
        pki._leaf("client", "ca", f"{usage}clientAuth\n")
        pki._leaf("rogue", "rogue-ca", f"{usage}clientAuth\n")
        return pki

    def _key(self, name: str) -> None:
        self._openssl(f"ecparam -name prime256v1 -genkey -noout -out {name}.key")

    def _leaf(self, name: str, ca: str, extensions: str) -> None:
        self._key(name)
        (self.directory / f"{name}.ext").write_text(extensions)
        self._openssl(f"req -new -key {name}.key -subj /CN={name} -out {name}.csr")
        self._openssl(
            f"x509 -req -in {name}.csr -CA {ca}.pem -CAkey {ca}.key -CAcreateserial -days 2"
            f" -extfile {name}.ext -out {name}.pem"
        )

    def _openssl(self, args: str) -> None:
        """Run ``openssl ARGS`` in the directory (file names only, so no quoting is needed)."""
        subprocess.run(
            ["openssl", *args.split()], cwd=self.directory, check=True, capture_output=True
        )


class EtcdServer:
    """One etcd member on 127.0.0.1; ``start``/``stop``/``restart`` keep its ports and data."""

    def __init__(
        self, directory: Path, pki: Pki | None = None, *, max_txn_ops: int | None = 100000
    ) -> None:
        self.directory = directory
        self.max_txn_ops = max_txn_ops
        self.data_dir = directory / "data"
        self.log = directory / "etcd.log"
        self.pki = pki
        self.client_port = free_port()
        self.peer_port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self._ssl = None
        if pki is not None:
            self._ssl = ssl.create_default_context(cafile=pki.ca)
            self._ssl.load_cert_chain(pki.cert("client"), pki.key("client"))
        self._opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=self._ssl)
        )

    @property
    def client_url(self) -> str:
        return f"{'https' if self.pki else 'http'}://127.0.0.1:{self.client_port}"

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.client_port}"

    @property
    def url(self) -> str:
        """The cmesh store URL (with the client certificate when TLS is on)."""
        if self.pki is None:
            return f"etcd://{self.endpoint}"
        p = self.pki
        return (
            f"etcds://{self.endpoint}?cacert={p.ca}&cert={p.cert('client')}&key={p.key('client')}"
        )

    def start(self) -> None:
        etcd = require_etcd()
        peer = f"http://127.0.0.1:{self.peer_port}"
        flags = {
            "--name": "t",
            "--data-dir": str(self.data_dir),
            "--listen-client-urls": self.client_url,
            "--advertise-client-urls": self.client_url,
            "--listen-peer-urls": peer,
            "--initial-advertise-peer-urls": peer,
            "--initial-cluster": f"t={peer}",
            "--heartbeat-interval": "10",
            "--election-timeout": "100",
            "--max-request-bytes": "33554432",
        }
        if self.max_txn_ops is not None:
            # cmesh applies a whole manifest set in one transaction (ref: registry.apply);
            # etcd's default of 128 operations is too few for the guide's clusters.
            flags["--max-txn-ops"] = str(self.max_txn_ops)
        if self.pki is not None:
            p = self.pki
            flags["--cert-file"] = str(p.cert("server"))
            flags["--key-file"] = str(p.key("server"))
            flags["--trusted-ca-file"] = str(p.ca)
            flags["--client-cert-auth"] = "true"
        args = [etcd, *(f"{flag}={value}" for flag, value in flags.items())]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                with self._opener.open(f"{self.client_url}/health", timeout=1) as answer:
                    if json.load(answer).get("health") == "true":
                        return
            except (OSError, ValueError):
                pass  # not listening yet
            try:
                self.proc.wait(timeout=0.05)  # the pause between probes; returns if etcd died
            except subprocess.TimeoutExpired:
                continue
            raise RuntimeError(f"etcd exited with {self.proc.returncode}:\n{self._log_tail()}")
        raise RuntimeError(f"etcd not healthy after {START_TIMEOUT}s:\n{self._log_tail()}")

    def _log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])

    def stop(self) -> None:
        """SIGTERM etcd and wait for its PID to exit."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """One grpc-gateway call (``kv/range`` …), independent of the code under test."""
        request = urllib.request.Request(
            f"{self.client_url}/v3/{path}", data=json.dumps(body).encode(), method="POST"
        )
        with self._opener.open(request, timeout=10) as answer:
            result: dict[str, Any] = json.load(answer)
            return result

    def revision(self) -> int:
        return int(self.post("kv/range", {"key": _b64(b"\0")})["header"]["revision"])

    def compact(self, revision: int) -> None:
        """Drop the history before ``revision`` (etcd keeps ``revision`` itself)."""
        self.post("kv/compaction", {"revision": revision})

    def wipe(self) -> None:
        """Delete every key and revoke every lease, so that a test starts from nothing."""
        for lease in self.post("lease/leases", {}).get("leases", []):
            with contextlib.suppress(urllib.error.HTTPError):  # expired meanwhile
                self.post("lease/revoke", {"ID": lease["ID"]})
        self.post("kv/deleterange", {"key": _b64(b"\0"), "range_end": _b64(b"\0")})


def _b64(data: bytes) -> str:
    return b64encode(data).decode()


@contextmanager
def running_etcd(
    directory: Path, *, tls: bool = False, max_txn_ops: int | None = 100000
) -> Iterator[EtcdServer]:
    """An etcd started in ``directory`` (with mTLS when ``tls``), stopped on exit;
    ``max_txn_ops=None`` keeps etcd's own default (128)."""
    require_etcd()
    pki = Pki.make(directory / "pki") if tls else None
    server = EtcdServer(directory, pki, max_txn_ops=max_txn_ops)
    try:
        server.start()
        yield server
    finally:
        server.stop()
