"""Cilium labels: ``source:key=value`` values and immutable label sets (``pkg/labels``).

A :class:`Labels` set holds at most one label per key (Cilium's ``Labels`` is a map by key), is
hashable, and renders sorted as ``source:key=value`` strings — the form Hubble prints and the
kvstore identity key is made of (ref §2.10: ``labels.FormatForKVStore``).

>>> ls = Labels.parse(["k8s:app=web", "reserved:host"])
>>> str(ls)
'k8s:app=web;reserved:host;'
>>> ls.get("app").value
'web'
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property

# Label sources (ref §1.12).
SOURCE_K8S = "k8s"
SOURCE_RESERVED = "reserved"
SOURCE_ANY = "any"
SOURCE_UNSPEC = "unspec"
SOURCE_CIDR = "cidr"
SOURCE_FQDN = "fqdn"
SOURCE_CONTAINER = "container"
SOURCE_CIDRGROUP = "cidrgroup"
SOURCE_NODE = "node"

SOURCES = frozenset(
    {
        SOURCE_K8S,
        SOURCE_RESERVED,
        SOURCE_ANY,
        SOURCE_UNSPEC,
        SOURCE_CIDR,
        SOURCE_FQDN,
        SOURCE_CONTAINER,
        SOURCE_CIDRGROUP,
        SOURCE_NODE,
        "cni",
        "directory",
    }
)


@dataclass(frozen=True, slots=True, order=True)
class Label:
    """One label.  ``source`` is never empty: labels written without one are ``unspec``."""

    source: str
    key: str
    value: str = ""

    @classmethod
    def parse(cls, text: str, default_source: str = SOURCE_UNSPEC) -> Label:
        """``source:key=value``; the source is the part before the first ``:``.

        >>> Label.parse("k8s:io.kubernetes.pod.namespace=default")
        Label(source='k8s', key='io.kubernetes.pod.namespace', value='default')
        >>> Label.parse("app=web")
        Label(source='unspec', key='app', value='web')
        """
        src, sep, rest = text.partition(":")
        if not sep or "=" in src:
            src, rest = default_source, text
        key, _, value = rest.partition("=")
        return cls(src, key, value)

    def __str__(self) -> str:
        return (
            f"{self.source}:{self.key}={self.value}" if self.value else f"{self.source}:{self.key}"
        )


class Labels(Mapping[str, Label]):
    """An immutable set of labels keyed by label key, hashable and ordered by key."""

    def __init__(self, labels: Iterable[Label] = ()) -> None:
        by_key: dict[str, Label] = {}
        for label in labels:
            by_key[label.key] = label
        self._by_key = dict(sorted(by_key.items()))

    @classmethod
    def parse(cls, texts: Iterable[str], default_source: str = SOURCE_UNSPEC) -> Labels:
        return cls(Label.parse(t, default_source) for t in texts)

    @classmethod
    def from_map(cls, mapping: Mapping[str, str], source: str) -> Labels:
        return cls(Label(source, k, v) for k, v in mapping.items())

    def __getitem__(self, key: str) -> Label:
        return self._by_key[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_key)

    def __len__(self) -> int:
        return len(self._by_key)

    def labels(self) -> tuple[Label, ...]:
        return tuple(self._by_key.values())

    def lookup(self, key: str, source: str = SOURCE_ANY) -> Label | None:
        """The label with ``key`` whose source fits ``source`` (``any`` fits every source)."""
        label = self._by_key.get(key)
        if label is None:
            return None
        if source == SOURCE_ANY or source == label.source:
            return label
        return None

    def merged(self, other: Iterable[Label]) -> Labels:
        """A new set with ``other``'s labels added (replacing labels of the same key)."""
        return Labels([*self._by_key.values(), *other])

    @cached_property
    def _key(self) -> str:
        return "".join(f"{lb};" for lb in self.sorted_strings())

    def sorted_strings(self) -> list[str]:
        return sorted(str(lb) for lb in self._by_key.values())

    def __str__(self) -> str:
        """The kvstore form: sorted ``source:key=value;`` entries (ref §2.10)."""
        return self._key

    def __repr__(self) -> str:
        return f"Labels({self.sorted_strings()!r})"

    def __hash__(self) -> int:
        return hash(self._key)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Labels):
            return self._key == other._key
        return NotImplemented

    def has_source(self, source: str) -> bool:
        return any(lb.source == source for lb in self._by_key.values())
