"""DNS name patterns of ``toFQDNs`` and DNS rules (ref §1.7, ``pkg/fqdn/matchpattern``).

A pattern becomes an anchored RE2 expression over the lower-cased, dot-terminated name:

| pattern                | regex                                                    |
|------------------------|----------------------------------------------------------|
| ``*`` (only stars/dot) | every name: ``(^([-a-zA-Z0-9_]+[.])+$)|(^[.]$)``         |
| leading ``**.``        | one or more whole labels: ``([-a-zA-Z0-9_]+([.][-a-zA-Z0-9_]+){0,})[.]`` |
| other ``*``            | ``[-a-zA-Z0-9_]*`` (never crosses a dot)                 |
| ``.``                  | a literal dot                                            |

>>> matches_pattern("*.cilium.io", "www.cilium.io"), matches_pattern("*.cilium.io", "cilium.io")
(True, False)
>>> matches_pattern("**.cilium.io", "a.b.cilium.io"), matches_pattern("*cilium.io", "subcilium.io")
(True, True)
"""

from __future__ import annotations

import re
from functools import lru_cache

from cmesh.l7.regex import compile_go

_LABEL = "[-a-zA-Z0-9_]"
ALL_NAMES = r"(^(" + _LABEL + r"+[.])+$)|(^[.]$)"


def fqdn(name: str) -> str:
    """Lower-case, dot-terminated (``Cilium.io`` → ``cilium.io.``)."""
    name = name.strip().lower()
    return name if name.endswith(".") else name + "."


def pattern_regex(pattern: str) -> str:
    p = fqdn(pattern)
    if re.fullmatch(r"[*]+[.]?", p) or p == ".":
        return ALL_NAMES
    body = ""
    if p.startswith("**."):
        body = "(" + _LABEL + "+([.]" + _LABEL + "+){0,})[.]"
        p = p[3:]
    i = 0
    while i < len(p):
        ch = p[i]
        if ch == "*":
            while i < len(p) and p[i] == "*":
                i += 1
            body += _LABEL + "*"
            continue
        body += "[.]" if ch == "." else re.escape(ch)
        i += 1
    return "^" + body + "$"


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> object:
    return compile_go(pattern_regex(pattern))


def matches_pattern(pattern: str, name: str) -> bool:
    return _compiled(pattern.lower()).search(fqdn(name)) is not None  # type: ignore[attr-defined]


def matches_name(match_name: str, name: str) -> bool:
    return fqdn(match_name) == fqdn(name)


def name_or_pattern_matches(match_name: str, match_pattern: str, name: str) -> bool:
    """A ``{matchName}`` or ``{matchPattern}`` entry (toFQDNs or a DNS rule) against a name."""
    if match_name:
        return matches_name(match_name, name)
    return matches_pattern(match_pattern, name)
