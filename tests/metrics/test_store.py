"""Cumulative counters kept in the kvstore: what is added is what is loaded back."""

from __future__ import annotations

from collections import Counter

from cmesh.kvstore import MemoryStore
from cmesh.metrics import add, load


def test_label_values_with_separators_load_back_unchanged():
    inc = Counter(
        {
            ("hubble_dns_queries_total", (("qtypes", "A,AAAA"), ("rcode", ""))): 2,
            ("odd_total", (("a", "x=y"), ("b", "100%2C|%"), ("c", ""))): 1,
            ("no_labels_total", ()): 5,
        }
    )
    store = MemoryStore()
    add(store, "c1", inc)
    add(store, "c1", inc)
    assert load(store, "c1") == Counter({k: 2 * v for k, v in inc.items()})
