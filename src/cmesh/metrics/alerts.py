"""Evaluate simple Prometheus alert rules against a cluster's flow history.

The demo and ``cmesh metrics --alerts`` need an answer without a Prometheus server; the test
suite checks the same rules with real ``promtool``.  Supported expressions are the shapes the
guide's alerts use: ``rate(M{sel}[D]) > N``, ``increase(M{sel}[D]) > N`` and ``sum(...)`` of
either, where ``M`` is a counter derived from flows (:mod:`cmesh.metrics.counters`) and ``D`` a
Prometheus duration (:func:`parse_duration`).  The counter's increase over a window is
recomputed from the flows recorded in it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from cmesh.hubble import Flow
from cmesh.metrics.counters import count

_EXPR = re.compile(
    r"^\s*(?:sum\(\s*)?(rate|increase)\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?\s*\[([^\]\s]+)\]\s*\)\s*\)?\s*(>|>=|<|<=)\s*([0-9.]+)\s*$"
)
_SEL = re.compile(r'\s*([a-zA-Z_]+)\s*(=~|!=|=)\s*"([^"]*)"\s*,?')


@dataclass(frozen=True)
class Evaluation:
    alert: str
    expr: str
    value: float
    threshold: float
    state: str  # inactive | pending | firing
    note: str = ""


#: Prometheus's duration units in seconds (``model.ParseDuration``; a year is 365 days), in the
#: order a duration writes them.
_UNITS = {"y": 365 * 86400, "w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}
_DURATION = re.compile("^" + "".join(rf"(?:(\d+){u})?" for u in _UNITS) + "$")


def parse_duration(text: str) -> float:
    """A Prometheus duration (a rule's ``for:``, a range ``[D]``) in seconds.

    Whole numbers with units ``y w d h m s ms``, each at most once and largest first, or ``0``.
    Go's durations (:func:`cmesh.hubble.timefmt.parse_go_duration`, Hubble's flags) are another
    grammar: fractions and signs, but no ``d``, ``w`` or ``y``.

    >>> parse_duration("1h30m"), parse_duration("500ms"), parse_duration("2w1d"), parse_duration("0")
    (5400.0, 0.5, 1296000.0, 0.0)
    """
    text = text.strip()
    if text == "0":
        return 0.0
    m = _DURATION.match(text)
    if not m or not text:
        raise ValueError(f"{text!r} is not a duration (e.g. 5m, 1h30m, 500ms, 1d)")
    return float(
        sum(int(n) * unit for n, unit in zip(m.groups(), _UNITS.values(), strict=True) if n)
    )


def _window(text: str) -> float:
    """The seconds of a range ``[D]``: a Prometheus duration longer than zero (PromQL refuses
    ``[0s]``: "duration must be greater than 0")."""
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise ValueError(f"range [{text}]: {exc}") from None
    if seconds <= 0:
        raise ValueError(f"range [{text}]: a range must be longer than 0")
    return seconds


def _matches(labels: dict[str, str], sel: str) -> bool:
    for key, op, val in _SEL.findall(sel.strip("{}")):
        have = labels.get(key, "")
        if op == "=" and have != val:
            return False
        if op == "!=" and have == val:
            return False
        if op == "=~" and not re.fullmatch(val, have):
            return False
    return True


def _parse(expr: str) -> re.Match[str]:
    m = _EXPR.match(expr)
    if not m:
        raise ValueError(
            f"unsupported expression {expr!r}: use rate(M[D]) or increase(M[D]), optionally in"
            " sum(...), compared with a number, e.g. rate(cilium_drop_count_total[5m]) > 100"
        )
    return m


def value_at(expr: str, flows: Iterable[Flow], at_ns: int) -> float:
    fn, metric, sel, range_, _op, _thr = _parse(expr).groups()
    window = _window(range_)
    lo = at_ns - int(window * 1e9)
    inside = [f for f in flows if lo < f.time <= at_ns]
    total = sum(
        v
        for (name, labels), v in count(inside).items()
        if name == metric and _matches(dict(labels), sel or "")
    )
    return total / window if fn == "rate" else float(total)


def evaluate(
    alert: str, expr: str, for_seconds: float, flows: list[Flow], now_ns: int
) -> Evaluation:
    m = _parse(expr)
    op, thr = m.group(5), float(m.group(6))

    def holds(v: float) -> bool:
        return {">": v > thr, ">=": v >= thr, "<": v < thr, "<=": v <= thr}[op]

    now_v = value_at(expr, flows, now_ns)
    if not holds(now_v):
        state = "inactive"
    else:
        earlier = value_at(expr, flows, now_ns - int(for_seconds * 1e9))
        state = "firing" if for_seconds == 0 or holds(earlier) else "pending"
    return Evaluation(alert, expr, now_v, thr, state)
