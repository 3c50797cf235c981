"""cmesh.kvstore: the one store interface, its value types, and the backends chosen by URL.

Other layers import from here only (STYLE.md, "Each package's ``__init__.py`` is its public
surface").  :func:`open_store` maps a URL onto a backend module:

===========================================  ================================================
``memory://``                                :class:`MemoryStore`, a fresh empty one per call
``sqlite:///abs/path.db`` or a plain path    :class:`SQLiteStore` on that file (created with
                                             its parent directories when missing)
``etcd://host:port[,host:port][?options]``   :class:`EtcdStore` on those etcd members, plain
                                             HTTP unless a TLS option is given
``etcds://host:port[,host:port][?options]``  :class:`EtcdStore` over TLS; the options
                                             ``cacert``, ``cert``, ``key`` and ``timeout``
                                             are in ``cmesh/kvstore/etcd_config.py``
===========================================  ================================================

>>> store = open_store("memory://")
>>> store.put("a", b"1")
1
>>> store.get("a").value
b'1'
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

from cmesh._lazy import lazy_exports
from cmesh.errors import InvalidArgument
from cmesh.kvstore.memory import MemoryStore
from cmesh.kvstore.sqlite import SQLiteStore
from cmesh.kvstore.store import Store
from cmesh.kvstore.types import (
    Compare,
    Delete,
    Event,
    EventType,
    KeyValue,
    Op,
    Put,
    Target,
    TxnOp,
    TxnResult,
)

if TYPE_CHECKING:
    from cmesh.kvstore.etcd import EtcdStore

__all__ = [
    "Compare",
    "Delete",
    "EtcdStore",
    "Event",
    "EventType",
    "KeyValue",
    "MemoryStore",
    "Op",
    "Put",
    "SQLiteStore",
    "Store",
    "Target",
    "TxnOp",
    "TxnResult",
    "open_store",
]


# The etcd client (urllib3 and friends) is loaded only when etcd is used: most commands run on
# the embedded store, and `policy trace` should start fast.
__getattr__, __dir__ = lazy_exports(__name__, {"EtcdStore": ("cmesh.kvstore.etcd", "EtcdStore")})


def _open_memory(rest: str) -> Store:
    return MemoryStore()


def _open_sqlite(path: str) -> Store:
    if not path:
        raise InvalidArgument(
            "the sqlite store URL names no file", hint="use sqlite:///absolute/path/store.db"
        )
    return SQLiteStore(path)


def _open_etcd(scheme: str) -> Callable[[str], Store]:
    def open_etcd(endpoints: str) -> Store:
        from cmesh.kvstore.etcd import EtcdStore

        return EtcdStore(f"{scheme}://{endpoints}")

    return open_etcd


#: URL scheme → opener, given what follows ``scheme://``.
_BACKENDS: dict[str, Callable[[str], Store]] = {
    "memory": _open_memory,
    "sqlite": _open_sqlite,
    "etcd": _open_etcd("etcd"),
    "etcds": _open_etcd("etcds"),
}


def open_store(url: str) -> Store:
    """Open the store ``url`` names; a string without ``://`` is a SQLite file path.

    Raises :class:`~cmesh.errors.InvalidArgument` for an unknown scheme or an empty path and
    :class:`~cmesh.errors.StoreUnavailable` when the backend cannot be reached or opened.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return _open_sqlite(url)
    opener = _BACKENDS.get(scheme.lower())
    if opener is None:
        raise InvalidArgument(
            f"unknown kvstore URL scheme {scheme!r} in {url!r}",
            hint="use one of " + ", ".join(f"{s}://" for s in _BACKENDS),
        )
    return opener(rest)
