"""``FlowFilter`` and how a flow is matched against white- and blacklists (ref §4.5).

Mirrors ``pkg/hubble/filters/*.go``.  A :class:`FlowFilter` holds the filter values as
written (strings, like the proto); :func:`compile_filter` validates them once and returns a
predicate.  The combining rules (``filters.go``):

* inside one field the values are ORed;
* the fields set in one FlowFilter are ANDed;
* the whitelist filters are ORed with each other (an empty whitelist admits everything);
* a flow is shown when it matches one whitelist filter and no blacklist filter.

The per-field predicates live in :mod:`cmesh.hubble.filterfuncs`; the command-line flags that
build FlowFilters are parsed by :func:`cmesh.hubble.filterflags.parse_filters`.

>>> from cmesh.hubble.flow import Flow
>>> dropped = Flow(verdict=Verdict.DROPPED)
>>> matches(dropped, [FlowFilter(verdict=[Verdict.DROPPED])], [])
True
>>> matches(dropped, [], [FlowFilter(verdict=[Verdict.DROPPED])])
False
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any

from cmesh.hubble.enums import DropReason, IPVersion, TrafficDirection, Verdict
from cmesh.hubble.flow import Flow, HTTPHeader, NetworkInterface, TCPFlags, Workload

Predicate = Callable[[Flow], bool]


@dataclass(frozen=True, slots=True)
class EventTypeFilter:
    """``--type TYPE[:SUBTYPE]``: ``type`` 0 matches any type; the sub-type only if asked."""

    type: int = 0
    match_sub_type: bool = False
    sub_type: int = 0


@dataclass(frozen=True, slots=True)
class FlowFilter:
    """One FlowFilter of flow.proto: every set field must match (values of a field are ORed)."""

    uuid: tuple[str, ...] = ()
    source_ip: tuple[str, ...] = ()
    source_ip_xlated: tuple[str, ...] = ()
    source_pod: tuple[str, ...] = ()
    source_fqdn: tuple[str, ...] = ()
    source_label: tuple[str, ...] = ()
    source_service: tuple[str, ...] = ()
    source_workload: tuple[Workload, ...] = ()
    source_cluster_name: tuple[str, ...] = ()
    destination_ip: tuple[str, ...] = ()
    destination_pod: tuple[str, ...] = ()
    destination_fqdn: tuple[str, ...] = ()
    destination_label: tuple[str, ...] = ()
    destination_service: tuple[str, ...] = ()
    destination_workload: tuple[Workload, ...] = ()
    destination_cluster_name: tuple[str, ...] = ()
    traffic_direction: tuple[TrafficDirection, ...] = ()
    verdict: tuple[Verdict, ...] = ()
    drop_reason_desc: tuple[DropReason, ...] = ()
    interface: tuple[NetworkInterface, ...] = ()
    event_type: tuple[EventTypeFilter, ...] = ()
    http_status_code: tuple[str, ...] = ()
    protocol: tuple[str, ...] = ()
    source_port: tuple[str, ...] = ()
    destination_port: tuple[str, ...] = ()
    reply: tuple[bool, ...] = ()
    dns_query: tuple[str, ...] = ()
    source_identity: tuple[int, ...] = ()
    destination_identity: tuple[int, ...] = ()
    http_method: tuple[str, ...] = ()
    http_path: tuple[str, ...] = ()
    http_url: tuple[str, ...] = ()
    http_header: tuple[HTTPHeader, ...] = ()
    tcp_flags: tuple[TCPFlags, ...] = ()
    node_name: tuple[str, ...] = ()
    node_labels: tuple[str, ...] = ()
    ip_version: tuple[IPVersion, ...] = ()
    encrypted: tuple[bool, ...] = ()

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, tuple(getattr(self, f.name)))

    def set_fields(self) -> dict[str, tuple[Any, ...]]:
        """The fields that constrain the flow, by name (what ``--print-raw-filters`` shows)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={list(v)!r}" for k, v in self.set_fields().items())
        return f"FlowFilter({inner})"


def compile_filter(flow_filter: FlowFilter, *, legacy_label_keys: bool = True) -> Predicate:
    """One FlowFilter as a predicate (all set fields ANDed).

    Raises :class:`~cmesh.errors.InvalidArgument` with Hubble's message for a value the server
    would reject (bad IP, CIDR, port, regex, label selector, protocol, status code, ...).
    ``legacy_label_keys=False`` reads ``--label io.kubernetes.pod.namespace=x`` as any-source,
    as newer Cilium does (:mod:`cmesh.hubble.labelselector`).
    """
    from cmesh.hubble.filterfuncs import build_predicates

    predicates = build_predicates(flow_filter, legacy_label_keys=legacy_label_keys)
    return lambda flow: all(p(flow) for p in predicates)


@lru_cache(maxsize=256)
def _compiled(filters: tuple[FlowFilter, ...], legacy: bool) -> tuple[Predicate, ...]:
    return tuple(compile_filter(f, legacy_label_keys=legacy) for f in filters)


class FlowMatcher:
    """A whitelist and a blacklist compiled once, for matching many flows."""

    def __init__(
        self,
        whitelist: Iterable[FlowFilter] = (),
        blacklist: Iterable[FlowFilter] = (),
        *,
        legacy_label_keys: bool = True,
    ) -> None:
        self.whitelist = tuple(whitelist)
        self.blacklist = tuple(blacklist)
        self._white = _compiled(self.whitelist, legacy_label_keys)
        self._black = _compiled(self.blacklist, legacy_label_keys)

    def __call__(self, flow: Flow) -> bool:
        """``filters.Apply``: matches one whitelist filter (or none given), no blacklist one."""
        if self._white and not any(p(flow) for p in self._white):
            return False
        return not any(p(flow) for p in self._black)


def matches(
    flow: Flow, whitelist: Sequence[FlowFilter], blacklist: Sequence[FlowFilter] = ()
) -> bool:
    """Whether ``hubble observe`` with these filters would show ``flow``."""
    return FlowMatcher(whitelist, blacklist)(flow)
