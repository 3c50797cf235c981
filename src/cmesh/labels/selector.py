"""Compiled endpoint selectors and how they match labels (ref §1.12, ``pkg/policy/api/selector.go``).

A selector is a conjunction of :class:`Requirement` values.  Each requirement names a key with a
source: written ``k8s:app`` it matches only ``k8s`` labels; written ``app`` (no source, or
``any:``) it matches a label of any source.  Dots never separate a source, so
``io.kubernetes.pod.namespace`` is an ``any`` key.  ``NotIn`` and ``DoesNotExist`` also match
when the key is absent (k8s semantics).  The empty selector matches everything.

>>> sel = EndpointSelector.from_match({"app": "web", "k8s:tier": "front"})
>>> sel.matches(Labels.parse(["k8s:app=web", "k8s:tier=front"]))
True
>>> sel.matches(Labels.parse(["container:app=web", "container:tier=front"]))
False
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from cmesh.labels.label import SOURCE_ANY, SOURCE_RESERVED, SOURCES, Labels


class Operator(enum.Enum):
    IN = "In"
    NOT_IN = "NotIn"
    EXISTS = "Exists"
    DOES_NOT_EXIST = "DoesNotExist"


def split_key(written: str) -> tuple[str, str]:
    """A selector key as written in YAML → ``(source, key)``.

    >>> split_key("k8s:app"), split_key("app"), split_key("io.kubernetes.pod.namespace")
    (('k8s', 'app'), ('any', 'app'), ('any', 'io.kubernetes.pod.namespace'))
    >>> split_key("reserved:host")
    ('reserved', 'host')
    """
    src, sep, key = written.partition(":")
    if sep and src in SOURCES:
        return src, key
    if written.startswith("$"):  # legacy "$host" form
        return SOURCE_RESERVED, written[1:]
    return SOURCE_ANY, written


@dataclass(frozen=True, slots=True, order=True)
class Requirement:
    key: str
    source: str
    op: Operator = field(compare=False)
    values: frozenset[str] = field(default=frozenset(), compare=False)
    _op_order: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_op_order", self.op.value + "," + ",".join(sorted(self.values)))

    def matches(self, labels: Labels) -> bool:
        label = labels.lookup(self.key, self.source)
        op = self.op
        if op is Operator.IN:
            return label is not None and label.value in self.values
        if op is Operator.NOT_IN:
            return label is None or label.value not in self.values
        if op is Operator.EXISTS:
            return label is not None
        return label is None

    def __str__(self) -> str:
        k = f"{self.source}:{self.key}"
        if self.op is Operator.IN and len(self.values) == 1:
            return f"{k}={next(iter(self.values))}"
        if self.op is Operator.EXISTS:
            return k
        if self.op is Operator.DOES_NOT_EXIST:
            return f"{k} notexist"
        word = "in" if self.op is Operator.IN else "notin"
        return f"{k} {word} ({','.join(sorted(self.values))})"


@dataclass(frozen=True, slots=True)
class EndpointSelector:
    """An immutable, hashable conjunction of requirements, kept sorted for equality."""

    requirements: tuple[Requirement, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "requirements", tuple(sorted(set(self.requirements))))

    @classmethod
    def from_match(
        cls,
        match_labels: Mapping[str, str] | None = None,
        match_expressions: Iterable[tuple[str, str, Sequence[str]]] = (),
    ) -> EndpointSelector:
        """Build from ``matchLabels`` and ``(key, operator, values)`` expressions as written."""
        reqs: list[Requirement] = []
        for k, v in (match_labels or {}).items():
            src, key = split_key(k)
            reqs.append(Requirement(key, src, Operator.IN, frozenset([v])))
        for k, op, values in match_expressions:
            src, key = split_key(k)
            reqs.append(Requirement(key, src, Operator(op), frozenset(values)))
        return cls(tuple(reqs))

    @property
    def is_wildcard(self) -> bool:
        return not self.requirements

    def matches(self, labels: Labels) -> bool:
        return all(r.matches(labels) for r in self.requirements)

    def has_key(self, key: str, sources: Iterable[str] = (SOURCE_ANY, "k8s")) -> bool:
        srcs = set(sources)
        return any(r.key == key and r.source in srcs for r in self.requirements)

    def has_key_prefix(self, prefix: str, sources: Iterable[str] = (SOURCE_ANY, "k8s")) -> bool:
        srcs = set(sources)
        return any(r.key.startswith(prefix) and r.source in srcs for r in self.requirements)

    def has_source(self, source: str) -> bool:
        return any(r.source == source for r in self.requirements)

    def value_of(self, key: str) -> frozenset[str] | None:
        """The values an ``In`` requirement on ``key`` allows (any source), else ``None``."""
        for r in self.requirements:
            if r.key == key and r.op is Operator.IN:
                return r.values
        return None

    def add(self, *reqs: Requirement) -> EndpointSelector:
        return EndpointSelector((*self.requirements, *reqs))

    def without_key(self, key: str) -> EndpointSelector:
        return EndpointSelector(tuple(r for r in self.requirements if r.key != key))

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements) if self.requirements else "{}"


WILDCARD = EndpointSelector()


def req_in(source: str, key: str, *values: str) -> Requirement:
    return Requirement(key, source, Operator.IN, frozenset(values))


def req_exists(source: str, key: str) -> Requirement:
    return Requirement(key, source, Operator.EXISTS)
