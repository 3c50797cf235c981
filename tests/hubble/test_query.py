"""Which flows a ``hubble observe`` invocation returns (ref §4.5, §4.6), without a store."""

from __future__ import annotations

import pytest

from cmesh.errors import InvalidArgument
from cmesh.hubble import (
    ALL,
    DEFAULT_LAST,
    Flow,
    FlowFilter,
    FlowsRequest,
    Verdict,
    build_request,
    select_flows,
)
from cmesh.hubble.query import merge_by_time

SEC = 10**9
NOW = 1_000 * SEC
# ten flows one second apart, ending one second before NOW; every third one dropped
RING = [
    Flow(
        time=NOW - (10 - i) * SEC,
        uuid=f"f{i}",
        verdict=Verdict.DROPPED if i % 3 == 0 else Verdict.FORWARDED,
    )
    for i in range(10)
]


def uuids(flows: list[Flow]) -> list[str]:
    return [f.uuid for f in flows]


@pytest.mark.parametrize(
    ("kwargs", "number", "first", "since", "until"),
    [
        ({}, DEFAULT_LAST, False, None, None),
        ({"last": 5}, 5, False, None, None),
        ({"first": 3}, 3, True, None, None),
        ({"all_flows": True}, ALL, False, None, None),
        ({"follow": True}, 0, False, None, None),
        ({"follow": True, "last": 2}, 2, False, None, None),
        ({"since": "3s"}, 0, False, NOW - 3 * SEC, None),
        ({"since": "3s", "last": 1}, 1, False, NOW - 3 * SEC, None),
        ({"until": "5s"}, 0, False, None, NOW - 5 * SEC),
        ({"until": "5s", "follow": True}, 0, False, None, None),
    ],
    ids=[
        "default-last-20",
        "last",
        "first",
        "all",
        "follow-no-history",
        "follow-last",
        "since-no-limit",
        "since-and-last",
        "until",
        "until-ignored-when-following",
    ],
)
def test_request_from_selector_flags_ref_4_5(kwargs, number, first, since, until):
    request = build_request(now=NOW, **kwargs)
    assert (request.number, request.first, request.since, request.until) == (
        number,
        first,
        since,
        until,
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"first": 1, "last": 1}, "cannot set both --first and --last"),
        ({"first": 1, "all_flows": True}, "cannot set both --first and --all"),
        ({"first": 1, "follow": True}, "cannot set both --first and --follow"),
        ({"last": 1, "all_flows": True}, "cannot set both --last and --all"),
        ({"since": "yesterday"}, "failed to parse the since time: failed to convert yesterday"),
    ],
    ids=["first-last", "first-all", "first-follow", "last-all", "bad-since"],
)
def test_incompatible_selectors_are_rejected_ref_4_5(kwargs, message):
    with pytest.raises(InvalidArgument) as info:
        build_request(now=NOW, **kwargs)
    assert message in info.value.message


DROPPED = (FlowFilter(verdict=[Verdict.DROPPED]),)


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (FlowsRequest(number=3), ["f7", "f8", "f9"]),
        (FlowsRequest(number=2, first=True), ["f0", "f1"]),
        (FlowsRequest(number=2, whitelist=DROPPED), ["f6", "f9"]),
        (FlowsRequest(number=2, first=True, whitelist=DROPPED), ["f0", "f3"]),
        (FlowsRequest(number=100, blacklist=DROPPED), ["f1", "f2", "f4", "f5", "f7", "f8"]),
        (FlowsRequest(since=NOW - 3 * SEC), ["f7", "f8", "f9"]),
        (FlowsRequest(number=1, since=NOW - 3 * SEC), ["f9"]),
        (FlowsRequest(number=1, first=True, since=NOW - 3 * SEC), ["f7"]),
        (FlowsRequest(since=NOW - 5 * SEC, until=NOW - 4 * SEC), ["f5", "f6"]),
        (FlowsRequest(number=ALL), [f"f{i}" for i in range(10)]),
        (FlowsRequest(follow=True), []),
        (FlowsRequest(follow=True, number=1), ["f9"]),
        (FlowsRequest(follow=True, since=NOW - 2 * SEC), ["f8", "f9"]),
    ],
    ids=[
        "last-n",
        "first-n",
        "last-n-matching",
        "first-n-matching",
        "blacklist",
        "since-all",
        "since-last",
        "since-first",
        "since-until-inclusive",
        "all",
        "follow-from-now",
        "follow-with-last",
        "follow-since",
    ],
)
def test_history_returned_for_a_request_ref_4_6(request_, expected):
    assert uuids(select_flows(RING, request_)) == expected


def test_several_rings_merge_by_time_ref_4_5():
    a = [Flow(time=1, uuid="a1"), Flow(time=4, uuid="a4")]
    b = [Flow(time=2, uuid="b2"), Flow(time=4, uuid="b4"), Flow(time=5, uuid="b5")]
    assert uuids(merge_by_time([a, b])) == ["a1", "b2", "a4", "b4", "b5"]
