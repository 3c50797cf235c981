"""Hubble's ``--time-format`` layouts and its ``--since``/``--until`` parsing (ref §4.4, §4.5).

Mirrors ``hubble/pkg/time/time.go``.  Printed times are UTC, as ``Timestamp.AsTime()`` is.

=======================  ==================================  ==================================
``--time-format``         Go layout                          example
=======================  ==================================  ==================================
StampMilli (default)     ``Jan _2 15:04:05.000``             ``Feb  7 13:06:45.130``
YearMonthDay             ``2006-01-02``                      ``2026-02-07``
YearMonthDayHour         ``2006-01-02T15Z07:00``             ``2026-02-07T13Z``
YearMonthDayHourMinute   ``2006-01-02T15:04Z07:00``          ``2026-02-07T13:06Z``
RFC3339                  ``2006-01-02T15:04:05Z07:00``       ``2026-02-07T13:06:45Z``
RFC3339Milli / Micro /   ``...05.999Z07:00`` (zeros trimmed) ``2026-02-07T13:06:45.13Z``
Nano
RFC1123Z                 ``Mon, 02 Jan 2006 15:04:05 -0700`` ``Sat, 07 Feb 2026 13:06:45 +0000``
=======================  ==================================  ==================================

``--since``/``--until`` take a Go duration first (``3s``, ``4m``, ``1h43m``: that long before
``now``), then the absolute layouts above except StampMilli (``FromString`` only accepts
layouts that carry a date).  ``now`` is always passed in: the core reads no clock.

JSON timestamps (protojson) are :func:`format_timestamp` / :func:`parse_timestamp`.

>>> format_time(1_770_469_605_130_000_000, "StampMilli")
'Feb  7 13:06:45.130'
>>> parse_go_duration("1h43m") == (60 + 43) * 60 * 10**9
True
>>> format_timestamp(1_767_261_600_120_000_000)
'2026-01-01T10:00:00.120Z'
>>> parse_timestamp('2026-01-01T10:00:00.120Z')
1767261600120000000
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from cmesh.errors import InvalidArgument

#: The ``--time-format`` names Hubble accepts (``FormatNames``).
TIME_FORMATS = (
    "YearMonthDay",
    "YearMonthDayHour",
    "YearMonthDayHourMinute",
    "StampMilli",
    "RFC3339",
    "RFC3339Milli",
    "RFC3339Micro",
    "RFC3339Nano",
    "RFC1123Z",
)

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$"
)


def format_timestamp(ns: int) -> str:
    """protojson's Timestamp text: UTC, ``Z``, fractional digits in groups of 3 as needed."""
    secs, nanos = divmod(ns, 1_000_000_000)
    t = _EPOCH + timedelta(seconds=secs)
    base = f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
    if nanos == 0:
        frac = ""
    elif nanos % 1_000_000 == 0:
        frac = f".{nanos // 1_000_000:03d}"
    elif nanos % 1000 == 0:
        frac = f".{nanos // 1000:06d}"
    else:
        frac = f".{nanos:09d}"
    return f"{base}{frac}Z"


def parse_timestamp(text: str) -> int:
    """RFC 3339 (any offset, up to 9 fractional digits) to nanoseconds since the epoch."""
    m = _RFC3339.match(text.strip())
    if not m:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    secs = _epoch(*(int(g) for g in m.groups()[:6]))
    nanos = int((m.group(7) or "").ljust(9, "0"))
    return (secs - _offset_seconds(m.group(8))) * 1_000_000_000 + nanos


def _epoch(year: int, month: int, day: int, hour: int, minute: int, second: int) -> int:
    """Seconds since the epoch of a UTC calendar time; a field out of range (month 13, 31
    February, hour 24) is a ValueError, as Go's time.Parse refuses it ("month out of range")."""
    return int(datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp())


def _offset_seconds(zone: str) -> int:
    """``Z`` (or ``z``) or ``±hh:mm`` in seconds east of UTC."""
    if zone in ("Z", "z"):
        return 0
    sign = 1 if zone[0] == "+" else -1
    return sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)


def _trimmed(nanos: int, digits: int) -> str:
    """Go's ``.999…`` fraction: ``digits`` wide, trailing zeros (and a bare dot) removed."""
    frac = f"{nanos:09d}"[:digits].rstrip("0")
    return f".{frac}" if frac else ""


def format_time(ns: int, time_format: str = "StampMilli") -> str:
    """``ns`` since the epoch in the named layout (unknown names fall back to StampMilli)."""
    if not ns:
        return "N/A"
    secs, nanos = divmod(ns, 1_000_000_000)
    t = _EPOCH + timedelta(seconds=secs)
    date = f"{t.year:04d}-{t.month:02d}-{t.day:02d}"
    clock = f"{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
    name = time_format.lower()
    if name == "yearmonthday":
        return date
    if name == "yearmonthdayhour":
        return f"{date}T{t.hour:02d}Z"
    if name == "yearmonthdayhourminute":
        return f"{date}T{t.hour:02d}:{t.minute:02d}Z"
    if name == "rfc3339":
        return f"{date}T{clock}Z"
    digits = {"rfc3339milli": 3, "rfc3339micro": 6, "rfc3339nano": 9}.get(name)
    if digits is not None:
        return f"{date}T{clock}{_trimmed(nanos, digits)}Z"
    if name == "rfc1123z":
        return f"{_DAYS[t.weekday()]}, {t.day:02d} {_MONTHS[t.month - 1]} {t.year} {clock} +0000"
    return f"{_MONTHS[t.month - 1]} {t.day:>2} {clock}.{nanos // 1_000_000:03d}"


_DURATION_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3600 * 1_000_000_000,
}
_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_go_duration(text: str) -> int:
    """Go's ``time.ParseDuration`` in nanoseconds (``300ms``, ``-1.5h``, ``2h45m``)."""
    s = text.strip()
    sign = -1 if s.startswith("-") else 1
    s = s[1:] if s[:1] in "+-" and s else s
    if s == "0":
        return 0
    if not s:
        raise ValueError(f"invalid duration {text!r}")
    total, pos = 0, 0
    while pos < len(s):
        m = _DURATION_PART.match(s, pos)
        if not m:
            raise ValueError(f"invalid duration {text!r}")
        whole, _, frac = m.group(1).partition(".")
        unit = _DURATION_UNITS[m.group(2)]
        total += int(whole or 0) * unit + (int(frac) * unit // 10 ** len(frac) if frac else 0)
        pos = m.end()
    return sign * total


_ZONE = r"(Z|[+-]\d{2}:\d{2})"
_ABSOLUTE = (
    (re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"), "date"),
    (re.compile(rf"^(\d{{4}})-(\d{{2}})-(\d{{2}})T(\d{{2}}){_ZONE}$"), "hour"),
    (re.compile(rf"^(\d{{4}})-(\d{{2}})-(\d{{2}})T(\d{{2}}):(\d{{2}}){_ZONE}$"), "minute"),
)
_RFC1123Z = re.compile(
    r"^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) ([A-Z][a-z]{2}) (\d{4}) "
    r"(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$"
)


def _absolute(text: str) -> int | None:
    for pattern, kind in _ABSOLUTE:
        m = pattern.match(text)
        if not m:
            continue
        g = m.groups()
        hour = int(g[3]) if kind != "date" else 0
        minute = int(g[4]) if kind == "minute" else 0
        zone = g[-1] if kind != "date" else "Z"
        secs = _epoch(int(g[0]), int(g[1]), int(g[2]), hour, minute, 0)
        return (secs - _offset_seconds(zone)) * 1_000_000_000
    try:
        return parse_timestamp(text)
    except ValueError:
        pass
    m = _RFC1123Z.match(text)
    if m and m.group(2) in _MONTHS:
        day, mon, year, hh, mm, ss = m.group(1), m.group(2), m.group(3), *m.groups()[3:6]
        secs = _epoch(int(year), _MONTHS.index(mon) + 1, int(day), int(hh), int(mm), int(ss))
        offset = (int(m.group(8)) * 3600 + int(m.group(9)) * 60) * (1 if m.group(7) == "+" else -1)
        return (secs - offset) * 1_000_000_000
    return None


def parse_time(text: str, now: int) -> int:
    """``--since``/``--until``: a duration before ``now`` (ns) or an absolute time, in ns.

    >>> parse_time("3s", now=10 * 10**9)
    7000000000
    >>> parse_time("2026-02-07T13:06:45Z", now=0) == 1_770_469_605 * 10**9
    True
    """
    try:
        return now - parse_go_duration(text)
    except ValueError:
        pass
    try:
        found = _absolute(text.strip())
    except ValueError:  # a field out of range
        found = None
    if found is None:
        raise InvalidArgument(
            f"failed to convert {text} to time",
            hint="use a duration (3s, 4m, 1h43m) or a time such as 2026-02-07T13:06:45Z",
        )
    return found
