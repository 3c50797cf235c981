"""Which labels are identity-relevant (ref §2.10, ``pkg/labelsfilter/filter.go``).

Each prefix is a regular expression that must match at the start of the label key (and, when
it names one, the label's source).  A label is kept when no inclusive prefix is configured
beyond the defaults and no ignore prefix matches, or when the longest matching include is
longer than the shortest matching ignore.

>>> f = LabelFilter.default()
>>> sorted(f.filter(Labels.parse(["k8s:app=web", "k8s:pod-template-hash=abc"])).keys())
['app']
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

from cmesh.labels.label import Label, Labels

# Cilium 1.19 defaults (ref §2.10).  "!" marks an ignore prefix; "src:" restricts the source.
DEFAULT_PREFIXES: tuple[str, ...] = (
    "reserved:.*",
    re.escape("io.kubernetes.pod.namespace"),
    re.escape("io.cilium.k8s.namespace.labels"),
    re.escape("app.kubernetes.io"),
    re.escape("io.cilium.k8s.policy.cluster"),
    re.escape("io.cilium.k8s.policy.serviceaccount"),
    r"!io\.kubernetes",
    r"!kubernetes\.io",
    "!" + re.escape("statefulset.kubernetes.io/pod-name"),
    "!" + re.escape("apps.kubernetes.io/pod-index"),
    "!" + re.escape("batch.kubernetes.io/job-completion-index"),
    "!" + re.escape("batch.kubernetes.io/controller-uid"),
    r"!.*beta\.kubernetes\.io",
    r"!k8s\.io",
    r"!pod-template-generation",
    r"!pod-template-hash",
    r"!controller-revision-hash",
    r"!controller-uid",
    r"!annotation.*",
    r"!etcd_node",
    r"!topology\.kubernetes\.io",
)


@dataclass(frozen=True, slots=True)
class LabelPrefix:
    source: str
    pattern: re.Pattern[str]
    ignore: bool

    @classmethod
    def parse(cls, text: str) -> LabelPrefix:
        src, sep, rest = text.partition(":")
        if not sep:
            src, rest = "", text
        ignore = rest.startswith("!")
        return cls(src, re.compile(rest[1:] if ignore else rest), ignore)

    def match_len(self, label: Label) -> int:
        """Length of the match at the start of the key; 0 when it does not match there."""
        if self.source and self.source != label.source:
            return 0
        m = self.pattern.search(label.key)
        if m is None or m.start() != 0:
            return 0
        return max(m.end(), 1)


@dataclass(frozen=True, slots=True)
class LabelFilter:
    prefixes: tuple[LabelPrefix, ...]
    whitelist: bool = False
    # Relevance depends on the label's source and key only; a cluster has few distinct keys and
    # every pod of a workload repeats them, so each pair is decided once per filter.
    _decided: dict[tuple[str, str], bool] = field(
        default_factory=dict, init=False, compare=False, hash=False, repr=False
    )

    @staticmethod
    @cache
    def default() -> LabelFilter:
        return LabelFilter(tuple(LabelPrefix.parse(p) for p in DEFAULT_PREFIXES))

    @classmethod
    def with_extra(cls, extra: Iterable[str]) -> LabelFilter:
        """Defaults plus user prefixes (``--labels``); any inclusive one makes it a whitelist."""
        parsed = [LabelPrefix.parse(p) for p in extra]
        return cls(
            LabelFilter.default().prefixes + tuple(parsed),
            whitelist=any(not p.ignore for p in parsed),
        )

    def relevant(self, label: Label) -> bool:
        at = (label.source, label.key)
        decided = self._decided.get(at)
        if decided is None:
            decided = self._decided[at] = self._relevant(label)
        return decided

    def _relevant(self, label: Label) -> bool:
        included = ignored = 0
        for p in self.prefixes:
            n = p.match_len(label)
            if not n:
                continue
            if p.ignore:
                ignored = n if ignored == 0 or n < ignored else ignored
            elif n > included:
                included = n
        return (not self.whitelist and ignored == 0) or included > ignored

    def filter(self, labels: Labels) -> Labels:
        return Labels(lb for lb in labels.labels() if self.relevant(lb))
