"""Parse label-selector strings as kubectl ``-l`` and ``hubble observe --label`` write them.

Grammar (k8s ``labels.Parse``): comma-separated requirements ``key=value``, ``key==value``,
``key!=value``, ``key in (a,b)``, ``key notin (a,b)``, ``key`` (exists), ``!key`` (does not
exist).  A ``source:`` prefix on the key is kept (``k8s:app=web``); a key without one matches any
source (ref §1.12).

>>> str(parse_selector("app=web,tier in (a,b),!canary"))
'any:app=web,any:canary notexist,any:tier in (a,b)'
"""

from __future__ import annotations

import re

from cmesh.errors import InvalidArgument
from cmesh.labels.selector import EndpointSelector, Operator, Requirement, split_key

_SET = re.compile(r"^\s*([^\s!=(),]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")


def _split(text: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def parse_selector(text: str) -> EndpointSelector:
    reqs: list[Requirement] = []
    for part in _split(text):
        m = _SET.match(part)
        if m:
            src, key = split_key(m.group(1))
            values = frozenset(v.strip() for v in m.group(3).split(",") if v.strip())
            op = Operator.IN if m.group(2) == "in" else Operator.NOT_IN
            reqs.append(Requirement(key, src, op, values))
            continue
        if "!=" in part:
            k, v = part.split("!=", 1)
            src, key = split_key(k.strip())
            reqs.append(Requirement(key, src, Operator.NOT_IN, frozenset([v.strip()])))
        elif "=" in part:
            k, v = part.split("==", 1) if "==" in part else part.split("=", 1)
            src, key = split_key(k.strip())
            reqs.append(Requirement(key, src, Operator.IN, frozenset([v.strip()])))
        elif part.startswith("!"):
            src, key = split_key(part[1:].strip())
            reqs.append(Requirement(key, src, Operator.DOES_NOT_EXIST))
        elif re.match(r"^[^\s()]+$", part):
            src, key = split_key(part)
            reqs.append(Requirement(key, src, Operator.EXISTS))
        else:
            raise InvalidArgument(
                f"cannot parse label selector {text!r} at {part!r}",
                hint="write key=value, key!=value, key in (a,b), key notin (a,b), key or !key",
            )
    return EndpointSelector(tuple(reqs))
