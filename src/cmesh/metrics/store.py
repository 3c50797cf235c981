"""Cumulative counters per cluster, kept in the kvstore so every invocation adds to them.

``cmesh/metrics/<cluster>`` holds ``{"<metric>|k=v,k=v": value}`` (``%`` and ``,`` in a label
value are written ``%25`` and ``%2C``: DNS ``qtypes`` are comma-joined); additions are one
compare-and-swap each, retried, so two processes counting at once lose nothing.
"""

from __future__ import annotations

import json
from collections import Counter

from cmesh.errors import Conflict
from cmesh.kvstore import Compare, Put, Store
from cmesh.metrics.counters import Key

PREFIX = "cmesh/metrics/"


def _enc(k: Key) -> str:
    name, labels = k
    return name + "|" + ",".join(f"{a}={_escape(b)}" for a, b in labels)


def _dec(s: str) -> Key:
    name, _, rest = s.partition("|")
    labels = []
    for item in rest.split(",") if rest else ():
        label, _, value = item.partition("=")
        labels.append((label, value.replace("%2C", ",").replace("%25", "%")))
    return name, tuple(labels)


def _escape(value: str) -> str:
    return value.replace("%", "%25").replace(",", "%2C")


def add(store: Store, cluster: str, inc: Counter[Key]) -> None:
    if not inc:
        return
    key = PREFIX + cluster
    for _ in range(50):
        kv = store.get(key)
        cur = json.loads(kv.value) if kv else {}
        for k, v in inc.items():
            e = _enc(k)
            cur[e] = cur.get(e, 0) + v
        guard = Compare.unchanged(key, kv.mod_revision) if kv else Compare.absent(key)
        if store.txn([guard], [Put(key, json.dumps(cur, sort_keys=True).encode())]).succeeded:
            return
    raise Conflict(f"metrics of {cluster} kept changing", hint="retry")


def load(store: Store, cluster: str) -> Counter[Key]:
    kv = store.get(PREFIX + cluster)
    out: Counter[Key] = Counter()
    if kv:
        for k, v in json.loads(kv.value).items():
            out[_dec(k)] = v
    return out
