"""Which stored flows a ``hubble observe`` invocation returns (ref §4.5, §4.6), as pure functions.

:func:`build_request` mirrors ``getFlowsRequest`` of ``hubble/cmd/observe/flows.go`` (flag
checks and the default ``--last 20``); :func:`select_flows` mirrors what the observer server
sends back for a GetFlowsRequest over one ring buffer:

=====================================  ======================================================
request                                history returned (in ring order)
=====================================  ======================================================
``number=N`` (``--last N``)            the last N flows that match the filters and times
``first=True, number=N``               the first N that match
``number=0`` with ``since``            every match since ``since``
``number=0, follow`` without since     nothing: only new flows are streamed
=====================================  ======================================================

``since``/``until`` bound the flow time inclusively.  Several clusters behave like Relay with
several nodes: the number applies per cluster, then the flows are merged in time order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain

from cmesh.errors import InvalidArgument
from cmesh.hubble.filters import FlowFilter, FlowMatcher
from cmesh.hubble.flow import Flow
from cmesh.hubble.timefmt import parse_time

#: ``defaults.FlowPrintCount``: what a plain ``hubble observe`` shows.
DEFAULT_LAST = 20
#: ``--all`` is ``--last`` with the largest uint64.
ALL = 2**64 - 1


@dataclass(frozen=True, slots=True)
class FlowsRequest:
    """A GetFlowsRequest: how many flows, from which end, in what time range, which filters."""

    number: int = 0
    first: bool = False
    follow: bool = False
    since: int | None = None
    until: int | None = None
    whitelist: tuple[FlowFilter, ...] = ()
    blacklist: tuple[FlowFilter, ...] = ()

    def in_range(self, flow: Flow) -> bool:
        return (self.since is None or flow.time >= self.since) and (
            self.until is None or flow.time <= self.until
        )


def build_request(
    *,
    now: int,
    last: int = 0,
    first: int = 0,
    all_flows: bool = False,
    follow: bool = False,
    since: str | None = None,
    until: str | None = None,
    whitelist: Sequence[FlowFilter] = (),
    blacklist: Sequence[FlowFilter] = (),
) -> FlowsRequest:
    """The request ``hubble observe`` sends for these selector flags; ``now`` in ns.

    >>> build_request(now=0).number
    20
    >>> build_request(now=0, follow=True).number, build_request(now=0, all_flows=True).number == ALL
    (0, True)
    """
    pairs = (
        (first > 0 and last > 0, "--first and --last"),
        (first > 0 and all_flows, "--first and --all"),
        (first > 0 and follow, "--first and --follow"),
        (last > 0 and all_flows, "--last and --all"),
    )
    for bad, what in pairs:
        if bad:
            raise InvalidArgument(f"cannot set both {what}", hint="choose one way to pick flows")
    since_ns = _time(since, now, "since")
    until_ns = _time(until, now, "until") if not follow else None
    number = last
    if since_ns is None and until_ns is None and not first:
        if all_flows:
            number = ALL
        elif last == 0 and not follow:
            number = DEFAULT_LAST
    if first:
        number = first
    return FlowsRequest(
        number, first > 0, follow, since_ns, until_ns, tuple(whitelist), tuple(blacklist)
    )


def _time(text: str | None, now: int, what: str) -> int | None:
    if not text:
        return None
    try:
        return parse_time(text, now)
    except InvalidArgument as exc:
        raise InvalidArgument(
            f"failed to parse the {what} time: {exc.message}", hint=exc.hint
        ) from None


def select_flows(flows: Iterable[Flow], request: FlowsRequest) -> list[Flow]:
    """The history one ring (``flows`` oldest first) returns for ``request``."""
    matcher = FlowMatcher(request.whitelist, request.blacklist)
    found = [f for f in flows if request.in_range(f) and matcher(f)]
    if request.number == 0:
        return [] if request.follow and request.since is None else found
    if request.first:
        return found[: request.number]
    return found[-request.number :]


def merge_by_time(per_cluster: Iterable[Sequence[Flow]]) -> list[Flow]:
    """Flows of several rings in time order (stable: ties keep cluster, then ring order)."""
    return sorted(chain.from_iterable(per_cluster), key=lambda f: f.time)
