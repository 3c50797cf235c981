"""What only the etcd backend has: TLS, several endpoints and etcd's own limits.

The Store contract itself runs against etcd in test_contract.py, outages are in
test_etcd_outage.py and the URL form in test_etcd_config.py.  These use the session's servers.
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path

import pytest

from cmesh.errors import StoreUnavailable
from cmesh.kvstore import Compare, EtcdStore, Event, EventType, Put, Store, open_store
from cmesh.kvstore import etcd as etcd_backend
from tests.etcd import EtcdServer, running_etcd

pytestmark = pytest.mark.etcd

# -- several endpoints ----------------------------------------------------------------------


def test_a_dead_first_endpoint_fails_over_to_the_next(etcd: EtcdServer) -> None:
    with open_store(f"etcd://127.0.0.1:1,{etcd.endpoint}") as store:
        revision = store.put("f", b"1")
        assert store.get("f") is not None
        watch = store.watch("f", from_revision=revision, timeout=0)
        assert [e.key for e in watch] == ["f"]


def test_list_reads_page_after_page_of_one_snapshot(
    etcd: EtcdServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(etcd_backend, "PAGE", 2)
    with EtcdStore(etcd.url) as store:
        for key in ["p/e", "p/a", "p/d", "q", "p/b", "p/c"]:
            store.put(key, key.encode())
        listing, revision = store.list("p/")
        assert [kv.key for kv in listing] == ["p/a", "p/b", "p/c", "p/d", "p/e"]
        assert revision == store.revision()


# -- etcd's limits and leases ---------------------------------------------------------------


def test_txn_beyond_etcds_max_txn_ops_says_which_flag_to_raise(tmp_path: Path) -> None:
    """etcd refuses a transaction over ``--max-txn-ops`` (default 128) and nothing is written;
    the error names the flag (the other tests' etcd raises it for whole manifest sets)."""
    with running_etcd(tmp_path, max_txn_ops=None) as etcd, EtcdStore(etcd.url) as store:
        before = store.revision()
        with pytest.raises(StoreUnavailable) as caught:
            store.txn([], [Put(f"k/{i}", b"") for i in range(129)])
        assert "--max-txn-ops" in caught.value.hint
        assert store.revision() == before
        assert store.txn([], [Put(f"k/{i}", b"") for i in range(128)]).succeeded


@pytest.mark.parametrize(("ttl", "granted"), [(0.2, 1), (1, 1), (2.5, 3)], ids=str)
def test_lease_ttl_is_whole_seconds_rounded_up(etcd: EtcdServer, ttl: float, granted: int) -> None:
    with EtcdStore(etcd.url) as store:
        lease = store.lease_grant(ttl)
        assert int(etcd.post("lease/timetolive", {"ID": lease})["grantedTTL"]) == granted


# -- TLS ------------------------------------------------------------------------------------


def smoke(store: Store, writer: Store) -> None:
    """put, get, txn and a live watch fed by another client."""
    store.put("tls/a", b"1")
    kv = store.get("tls/a")
    assert kv is not None and kv.value == b"1"
    swap = store.txn([Compare.unchanged("tls/a", kv.mod_revision)], [Put("tls/a", b"2")])
    assert swap.succeeded
    watch = store.watch("tls/", timeout=10)
    assert [e.type for e in (next(watch), next(watch))] == [EventType.PUT, EventType.LISTED]
    got: queue.Queue[Event] = queue.Queue()
    reader = threading.Thread(target=lambda: got.put(next(watch)))
    reader.start()
    revision = writer.put("tls/b", b"3")
    event = got.get(timeout=10)
    reader.join()
    assert (event.type, event.key, event.revision) == (EventType.PUT, "tls/b", revision)


def test_mutual_tls_through_open_store_url(etcd_tls_server: EtcdServer) -> None:
    etcd_tls_server.wipe()
    with open_store(etcd_tls_server.url) as store, open_store(etcd_tls_server.url) as writer:
        assert isinstance(store, EtcdStore) and isinstance(writer, EtcdStore)
        assert store.url.startswith("etcds://")
        smoke(store, writer)


def test_mutual_tls_through_keyword_arguments(etcd_tls_server: EtcdServer) -> None:
    etcd_tls_server.wipe()
    pki = etcd_tls_server.pki
    assert pki is not None
    ca, cert, key = str(pki.ca), str(pki.cert("client")), str(pki.key("client"))
    with (
        EtcdStore(f"etcd://{etcd_tls_server.endpoint}", cacert=ca, cert=cert, key=key) as store,
        EtcdStore(f"etcds://{etcd_tls_server.endpoint}", cacert=ca, cert=cert, key=key) as writer,
    ):
        assert store.url == writer.url
        smoke(store, writer)


@pytest.mark.parametrize(
    "client",
    ["no-certificate", "certificate-of-another-ca", "server-not-trusted", "plain-http"],
)
def test_tls_without_the_right_certificates_is_unavailable(
    etcd_tls_server: EtcdServer, client: str
) -> None:
    pki = etcd_tls_server.pki
    assert pki is not None
    url = {
        "no-certificate": f"etcds://{etcd_tls_server.endpoint}?cacert={pki.ca}",
        "certificate-of-another-ca": (
            f"etcds://{etcd_tls_server.endpoint}?cacert={pki.ca}"
            f"&cert={pki.cert('rogue')}&key={pki.key('rogue')}"
        ),
        "server-not-trusted": (
            f"etcds://{etcd_tls_server.endpoint}?cacert={pki.cert('rogue-ca')}"
            f"&cert={pki.cert('client')}&key={pki.key('client')}"
        ),
        "plain-http": f"etcd://{etcd_tls_server.endpoint}",
    }[client]
    with pytest.raises(StoreUnavailable) as caught:
        open_store(url)
    assert etcd_tls_server.endpoint in caught.value.message
    if client != "plain-http":
        assert "cacert=" in caught.value.hint
