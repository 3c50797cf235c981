"""etcd servers for the kvstore tests (see tests/etcd.py); they skip when etcd is missing.

``etcd_server`` and ``etcd_tls_server`` live for the session; ``etcd`` is the plain one wiped
for this test, so that tests stay independent.  Tests that stop etcd start their own with
:func:`tests.etcd.running_etcd`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.etcd import EtcdServer, running_etcd


@pytest.fixture(scope="session")
def etcd_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EtcdServer]:
    with running_etcd(tmp_path_factory.mktemp("etcd")) as server:
        yield server


@pytest.fixture(scope="session")
def etcd_tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EtcdServer]:
    with running_etcd(tmp_path_factory.mktemp("etcd-tls"), tls=True) as server:
        yield server


@pytest.fixture
def etcd(etcd_server: EtcdServer) -> EtcdServer:
    """The session's plain etcd with no keys and no leases."""
    etcd_server.wipe()
    return etcd_server
