"""The etcd store URL (cmesh/kvstore/etcd_config.py): endpoints, TLS options, mistakes.

No server is needed: a malformed URL is refused before any connection, and the endpoints of the
unreachable case are closed ports.
"""

from __future__ import annotations

import pytest

from cmesh.errors import InvalidArgument, StoreUnavailable
from cmesh.kvstore import open_store
from cmesh.kvstore.etcd_config import EtcdConfig

URLS = [
    ("two-endpoints", "etcd://10.0.0.1:2379,10.0.0.2:2380", ["http://10.0.0.1:2379", "http://10.0.0.2:2380"]),
    ("default-port", "etcd://etcd-0", ["http://etcd-0:2379"]),
    ("etcds-is-tls", "etcds://a:1", ["https://a:1"]),
    ("https-endpoints", "etcd://https://a:1,https://b:2", ["https://a:1", "https://b:2"]),
    ("cacert-implies-tls", "etcd://a:1?cacert=/p/ca.pem", ["https://a:1"]),
    ("ipv6", "etcd://[::1]:2379,[fd00::2]", ["http://[::1]:2379", "http://[fd00::2]:2379"]),
]  # fmt: skip


@pytest.mark.parametrize(("url", "endpoints"), [u[1:] for u in URLS], ids=[u[0] for u in URLS])
def test_url_names_the_endpoints_in_order(url: str, endpoints: list[str]) -> None:
    config = EtcdConfig.from_url(url)
    assert [str(e) for e in config.endpoints] == endpoints
    assert EtcdConfig.from_url(config.url) == config


def test_url_carries_the_tls_files_and_timeout() -> None:
    url = "etcds://h:1?cacert=/p/ca.pem&cert=/p/c.pem&key=/p/c%26d.key&timeout=2.5"
    config = EtcdConfig.from_url(url)
    assert (config.cacert, config.cert, config.key, config.timeout) == (
        "/p/ca.pem",
        "/p/c.pem",
        "/p/c&d.key",
        2.5,
    )
    assert config.url == url


BAD_URLS = [
    ("no-endpoint", "etcd://"),
    ("port-zero", "etcd://a:0"),
    ("port-not-a-number", "etcd://a:http"),
    ("unknown-option", "etcd://a:1?cafile=/ca.pem"),
    ("option-twice", "etcd://a:1?timeout=1&timeout=2"),
    ("cert-without-key", "etcd://a:1?cert=/c.pem"),
    ("negative-timeout", "etcd://a:1?timeout=-1"),
    ("mixed-schemes", "etcd://http://a:1,https://b:1"),
    ("http-with-tls-files", "etcd://http://a:1?cacert=/ca.pem"),
    ("foreign-scheme", "etcd://ftp://a:1"),
    ("unclosed-ipv6", "etcd://[::1:2379"),
]


@pytest.mark.parametrize("url", [u[1] for u in BAD_URLS], ids=[u[0] for u in BAD_URLS])
def test_malformed_url_is_invalid_argument_before_any_connection(url: str) -> None:
    with pytest.raises(InvalidArgument):
        open_store(url)


def test_unreadable_tls_file_is_invalid_argument_naming_it() -> None:
    with pytest.raises(InvalidArgument) as caught:
        open_store("etcds://127.0.0.1:1?cacert=/nonexistent/ca.pem")
    assert "/nonexistent/ca.pem" in caught.value.message


def test_unreachable_endpoints_are_all_named_with_what_to_do() -> None:
    with pytest.raises(StoreUnavailable) as caught:
        open_store("etcd://127.0.0.1:1,127.0.0.2:1")
    assert "http://127.0.0.1:1" in caught.value.message
    assert "http://127.0.0.2:1" in caught.value.message
    assert "endpoint health" in caught.value.hint
