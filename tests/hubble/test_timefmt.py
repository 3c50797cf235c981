"""``--time-format`` layouts and ``--since``/``--until`` values (ref §4.4, §4.5)."""

from __future__ import annotations

import pytest

from cmesh.errors import InvalidArgument
from cmesh.hubble import TIME_FORMATS, format_time, parse_time
from cmesh.hubble.timefmt import parse_go_duration

SEC = 10**9
T = 1_770_469_605 * SEC + 130_500_000  # Sat Feb  7 13:06:45.1305 2026 UTC


FORMATS = [
    ("StampMilli", "Feb  7 13:06:45.130"),
    ("YearMonthDay", "2026-02-07"),
    ("YearMonthDayHour", "2026-02-07T13Z"),
    ("YearMonthDayHourMinute", "2026-02-07T13:06Z"),
    ("RFC3339", "2026-02-07T13:06:45Z"),
    ("RFC3339Milli", "2026-02-07T13:06:45.13Z"),
    ("RFC3339Micro", "2026-02-07T13:06:45.1305Z"),
    ("RFC3339Nano", "2026-02-07T13:06:45.1305Z"),
    ("RFC1123Z", "Sat, 07 Feb 2026 13:06:45 +0000"),
    ("no-such-format", "Feb  7 13:06:45.130"),
]


@pytest.mark.parametrize(("name", "text"), FORMATS, ids=[n for n, _ in FORMATS])
def test_time_formats_ref_4_4(name, text):
    assert format_time(T, name) == text


def test_every_documented_format_name_is_known():
    assert set(TIME_FORMATS) == {
        "StampMilli",
        "YearMonthDay",
        "YearMonthDayHour",
        "YearMonthDayHourMinute",
        "RFC3339",
        "RFC3339Milli",
        "RFC3339Micro",
        "RFC3339Nano",
        "RFC1123Z",
    }


def test_day_of_month_is_space_padded_and_whole_seconds_drop_the_fraction():
    whole = 1_767_261_600 * SEC  # 2026-01-01T10:00:00Z
    assert format_time(whole, "StampMilli") == "Jan  1 10:00:00.000"
    assert format_time(whole, "RFC3339Nano") == "2026-01-01T10:00:00Z"


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("3s", 3 * SEC),
        ("4m", 240 * SEC),
        ("1h43m", (3600 + 43 * 60) * SEC),
        ("1.5h", 5400 * SEC),
        ("300ms", 300_000_000),
        ("2us", 2000),
        ("0", 0),
        ("-1m", -60 * SEC),
    ],
    ids=["s", "m", "h-m", "fraction", "ms", "us", "zero", "negative"],
)
def test_go_durations_ref_4_5(text, ns):
    assert parse_go_duration(text) == ns


@pytest.mark.parametrize(
    "bad",
    ["", "3", "3x", "h", "1h-3m"],
    ids=["empty", "no-unit", "unit", "no-number", "inner-sign"],
)
def test_bad_durations(bad):
    with pytest.raises(ValueError):
        parse_go_duration(bad)


NOW = 1_770_469_605 * SEC


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("3s", NOW - 3 * SEC),
        ("1h43m", NOW - (3600 + 43 * 60) * SEC),
        ("2026-02-07T13:06:45Z", 1_770_469_605 * SEC),
        ("2026-02-07T13:06:45.5+01:00", (1_770_469_605 - 3600) * SEC + SEC // 2),
        ("2026-02-07", 1_770_422_400 * SEC),
        ("2026-02-07T13Z", 1_770_469_200 * SEC),
        ("2026-02-07T13:06Z", 1_770_469_560 * SEC),
        ("Sat, 07 Feb 2026 13:06:45 +0000", 1_770_469_605 * SEC),
    ],
    ids=[
        "relative",
        "relative-compound",
        "rfc3339",
        "offset",
        "date",
        "hour",
        "minute",
        "rfc1123z",
    ],
)
def test_since_and_until_values_use_the_given_now_ref_4_5(text, ns):
    assert parse_time(text, now=NOW) == ns


def test_stamp_milli_is_not_an_accepted_since_value():
    """hubble/pkg/time FromString only tries layouts that carry a date."""
    with pytest.raises(InvalidArgument, match=r"failed to convert Feb  7 13:06:45\.130 to time"):
        parse_time("Feb  7 13:06:45.130", now=NOW)
