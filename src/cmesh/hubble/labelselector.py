"""Label selectors as ``hubble observe --label`` parses them (ref §4.5, ``pkg/hubble/filters/labels.go``).

Hubble hands the selector to the Kubernetes parser after rewriting Cilium source prefixes: the
first ``:`` of a key becomes a ``.``, and the labels library then reads *the text before the
first dot* as the source.  So:

====================================  =========================  ==========================
written key                           source, key                matches
====================================  =========================  ==========================
``app``                               any, ``app``               ``k8s:app``, ``container:app``
``k8s:app``                           k8s, ``app``               ``k8s:app`` only
``reserved:world``                    reserved, ``world``        the world identity's label
``k8s:io.kubernetes.pod.namespace``   k8s, ``io.kubernetes...``  the namespace label
``io.kubernetes.pod.namespace``       **io**, ``kubernetes...``  nothing (the caveat)
====================================  =========================  ==========================

The last row is the caveat of ref §4.5, kept by default (``legacy_keys=True``).  Newer Cilium
(``labelparser.go``, ``translateSelector``) prefixes a source-less key with ``any.``; pass
``legacy_keys=False`` for that behaviour, where the last row means any source.

The grammar (``key``, ``!key``, ``key=v``, ``key==v``, ``key!=v``, ``key in (a,b)``,
``key notin (a,b)``, requirements joined by ``,`` and ANDed) is Kubernetes'.  Matching reuses
:class:`cmesh.labels.EndpointSelector`; the key splitting is done here because
:func:`cmesh.labels.parse_selector` follows the *policy* rule (a dot never starts a source) and
forgets whether ``any:`` was written, both of which Hubble's filter needs.

>>> sel = parse_label_selector("k8s:app=xwing")
>>> sel.matches(Labels.parse(["k8s:app=xwing", "k8s:class=fighter"]))
True
>>> parse_label_selector("io.kubernetes.pod.namespace=default").matches(
...     Labels.parse(["k8s:io.kubernetes.pod.namespace=default"]))
False
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from cmesh.errors import InvalidArgument
from cmesh.labels import (
    SOURCE_ANY,
    SOURCE_RESERVED,
    EndpointSelector,
    Labels,
    Operator,
    Requirement,
)

_SET = re.compile(r"^(!?)\s*([^\s!=(),]+)\s+(in|notin)\s*\(([^)]*)\)$")
_BINARY = re.compile(r"^([^\s!=(),]+)\s*(==|!=|=)\s*([^\s!=(),]*)$")
_UNARY = re.compile(r"^(!?)\s*([^\s!=(),]+)$")


def _split(text: str) -> list[str]:
    """Top-level comma split (commas inside ``( )`` belong to a value set)."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur).strip())
    return parts


def split_hubble_key(written: str, *, legacy_keys: bool = True) -> tuple[str, str]:
    """``(source, key)`` for a selector key as Hubble's translation plus Cilium's parser read it.

    >>> split_hubble_key("k8s:app"), split_hubble_key("app"), split_hubble_key("io.k8s.x")
    (('k8s', 'app'), ('any', 'app'), ('io', 'k8s.x'))
    >>> split_hubble_key("io.k8s.x", legacy_keys=False)
    ('any', 'io.k8s.x')
    """
    if ":" in written:
        translated = written.replace(":", ".", 1)
    elif legacy_keys:
        translated = written
    else:
        translated = f"{SOURCE_ANY}.{written}"
    if translated.startswith("$"):
        return SOURCE_RESERVED, translated[1:]
    source, dot, key = translated.partition(".")
    if not dot:
        return SOURCE_ANY, translated
    return source, key


def _requirement(part: str, legacy_keys: bool) -> Requirement:
    m = _SET.match(part)
    if m and not m.group(1):
        source, key = split_hubble_key(m.group(2), legacy_keys=legacy_keys)
        values = frozenset(v.strip() for v in m.group(4).split(","))
        op = Operator.IN if m.group(3) == "in" else Operator.NOT_IN
        return Requirement(key, source, op, values)
    m = _BINARY.match(part)
    if m:
        source, key = split_hubble_key(m.group(1), legacy_keys=legacy_keys)
        op = Operator.NOT_IN if m.group(2) == "!=" else Operator.IN
        return Requirement(key, source, op, frozenset([m.group(3)]))
    m = _UNARY.match(part)
    if m:
        source, key = split_hubble_key(m.group(2), legacy_keys=legacy_keys)
        op = Operator.DOES_NOT_EXIST if m.group(1) else Operator.EXISTS
        return Requirement(key, source, op)
    raise ValueError(part)


def parse_label_selector(text: str, *, legacy_keys: bool = True) -> EndpointSelector:
    """One ``--label`` value as an :class:`EndpointSelector` (requirements ANDed).

    Raises :class:`~cmesh.errors.InvalidArgument` naming the requirement it cannot read.
    """
    requirements: list[Requirement] = []
    if not text.strip():
        return EndpointSelector()  # k8s: the empty selector selects everything
    for part in _split(text):
        if not part:
            raise InvalidArgument(
                f"invalid label selector {text!r}: empty requirement",
                hint="write key=value, key!=value, key in (a,b), key notin (a,b), key or !key",
            )
        try:
            requirements.append(_requirement(part, legacy_keys))
        except ValueError:
            raise InvalidArgument(
                f"invalid label selector {text!r}: cannot parse {part!r}",
                hint="write key=value, key!=value, key in (a,b), key notin (a,b), key or !key;"
                " a source goes before a colon: k8s:app=web",
            ) from None
    return EndpointSelector(tuple(requirements))


def matches_any(selectors: Iterable[EndpointSelector], labels: Iterable[str]) -> bool:
    """True when one of ``selectors`` selects ``labels`` (``source:key=value`` strings)."""
    parsed = Labels.parse(labels)
    return any(s.matches(parsed) for s in selectors)
