"""What in a recorded flow decides its verdict, and the deduplicated log (ref §4.1, §4.2).

A Hubble log holds several events per connection: policy verdicts, traces at each observation
point, drops, L7 access logs, and the replies.  Replay keeps what a policy decides and drops the
rest:

=============================================  ====================================================
event                                          what it attests (``Side``)
=============================================  ====================================================
policy-verdict (type 5)                        that direction's verdict (``traffic_direction``)
drop with a policy reason (133, 181, 189)      that direction dropped it
trace ``to-endpoint`` (not a reply)            delivered: both directions passed
trace ``to-overlay|stack|host|network|crypto`` left the source: its egress passed
trace ``to-proxy``                             that direction passed L3/L4 (redirected)
L7 request                                     the request reached (or was refused by) a proxy;
                                               a forwarded request is expected at the server, so
                                               both directions are checked
=============================================  ====================================================

Replies (``is_reply``, L7 responses) pass by conntrack whatever the policy (ref §2.4) and are
skipped, as are ``from-*`` traces (seen before any policy), drops for other reasons (no route,
no backend) and flows without addresses.  What remains is reduced to a :data:`RecordKey`: the
observing cluster, both ends, protocol, destination port, the side, the observed verdict class
and the L7 request.  Identical keys are counted once (:class:`FlowLog`) — real logs repeat the
same few connections — and everything downstream works on the distinct keys.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from cmesh.replay.reader import FlowItem, ReadStats, ReplyItem


class Side(enum.IntEnum):
    """Which policy directions an event attests to."""

    EGRESS = 1
    INGRESS = 2
    BOTH = 3


class Observed(enum.IntEnum):
    """The recorded outcome, reduced to what replay compares."""

    FORWARDED = 1  # FORWARDED, REDIRECTED, TRACED
    AUDIT = 2  # passed, but an audited policy would have dropped it
    DROPPED = 3  # dropped by policy


class Skip(enum.Enum):
    REPLY = "replies (conntrack lets them pass, ref §2.4)"
    NO_POLICY_POINT = "traces seen before any policy (from-* points)"
    OTHER_DROP = "drops for reasons other than policy"
    NO_VERDICT = "events without a policy verdict (ERROR, TRANSLATED, unknown)"
    NO_ADDRESS = "flows without IP addresses or L4"


#: Protocol numbers used in keys (and arrays): Hubble's ``l4`` oneof names.
PROTOCOLS = {"TCP": 1, "UDP": 2, "SCTP": 3, "ICMPv4": 4, "ICMPv6": 5}
PROTOCOL_NAMES = {v: k for k, v in PROTOCOLS.items()}

#: (cluster, namespace, pod name, IP, identity) — one flow end as recorded.
EndKey = tuple[str, str, str, str, int]
#: ("http", method, path, host) or ("dns", query, "", "") — the L7 request, if any.
L7Key = tuple[str, str, str, str]
#: (observer cluster, src, dst, protocol, destination port, side, observed, L7 request or None)
RecordKey = tuple[str, EndKey, EndKey, int, int, int, int, L7Key | None]

_POLICY_DROPS = frozenset({133, 181, 189})  # POLICY_DENIED, POLICY_DENY, AUTH_REQUIRED
#: At most this many distinct normalized lines are remembered (about 1.5 KB each).
CACHE_LINES = 100_000
_POLICY_DROP_NAMES = frozenset({"POLICY_DENIED", "POLICY_DENY", "AUTH_REQUIRED"})
_EGRESS_POINTS = frozenset({"TO_OVERLAY", "TO_STACK", "TO_HOST", "TO_NETWORK", "TO_CRYPTO"})
_EGRESS_SUBTYPES = frozenset({2, 3, 4, 11, 13})  # monitor codes of the points above
_FORWARD = {"FORWARDED": 1, "REDIRECTED": 1, "TRACED": 1, "AUDIT": 2, "DROPPED": 3}
_FORWARD_NUM = {1: 1, 5: 1, 6: 1, 4: 2, 2: 3}
_DIRECTIONS = {"EGRESS": 1, "INGRESS": 2, 2: 1, 1: 2}


def _get(d: Mapping[str, Any], key: str, camel: str) -> Any:
    v = d.get(key)
    return d.get(camel) if v is None else v


def _l4(l4: Any) -> tuple[int, int] | None:
    if not isinstance(l4, dict):
        return None
    for name, proto in PROTOCOLS.items():
        v = l4.get(name)
        if isinstance(v, dict):
            if proto >= 4:
                return proto, int(v.get("type") or 0)
            return proto, int(_get(v, "destination_port", "destinationPort") or 0)
    return None


def _l7(l7: Any) -> tuple[str, L7Key | None]:
    """(type name, request key) of an ``l7`` object."""
    if not isinstance(l7, dict):
        return "", None
    kind = l7.get("type") or ""
    kind = (
        {1: "REQUEST", 2: "RESPONSE", 3: "SAMPLE"}.get(kind, kind)
        if isinstance(kind, int)
        else kind
    )
    http = l7.get("http")
    if isinstance(http, dict):
        url = http.get("url") or ""
        parts = urlsplit(url)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        return kind, ("http", str(http.get("method") or ""), path, parts.netloc)
    dns = l7.get("dns")
    if isinstance(dns, dict):
        return kind, ("dns", str(dns.get("query") or ""), "", "")
    return kind, None


@dataclass
class FlowLog:
    """The deduplicated log: each distinct :data:`RecordKey` with how many events had it.

    Side tables keep, per recorded end, the labels Hubble recorded (first seen wins) and the
    workload, and per address the DNS names the flows or DNS answers gave it (for toFQDNs).
    """

    counts: Counter[RecordKey] = field(default_factory=Counter)
    labels: dict[EndKey, tuple[str, ...]] = field(default_factory=dict)
    workloads: dict[EndKey, str] = field(default_factory=dict)
    names: dict[str, set[str]] = field(default_factory=dict)  # ip -> DNS names
    first_line: dict[RecordKey, int] = field(default_factory=dict)
    skipped: Counter[Skip] = field(default_factory=Counter)
    events: int = 0
    _observers: dict[str, str] = field(default_factory=dict, repr=False)
    _cache: dict[bytes, RecordKey | Skip] = field(default_factory=dict, repr=False)
    _last: RecordKey | Skip | None = field(default=None, repr=False)

    @property
    def kept(self) -> int:
        return sum(self.counts.values())

    # -- the reader's line cache (cmesh.replay.reader.LineCache) ---------------------------
    def hit(self, norm: bytes, line: int) -> bool:
        """Count a line whose normalized form was seen: same content, same key."""
        got = self._cache.get(norm)
        if got is None:
            return False
        self.events += 1
        if isinstance(got, Skip):
            self.skipped[got] += 1
        else:
            self.counts[got] += 1
        return True

    def learn(self, norm: bytes) -> None:
        if self._last is not None and len(self._cache) < CACHE_LINES:
            self._cache[norm] = self._last

    def add_all(
        self, items: Iterable[FlowItem | ReplyItem], stats: ReadStats | None = None
    ) -> FlowLog:
        """Add every flow; one whose fields have the wrong types (valid JSON, not a Hubble
        flow) is counted in ``stats`` as a malformed line, with its line, and skipped."""
        for flow, node, line in items:
            try:
                self.add(flow, node, line)
            except (TypeError, AttributeError, ValueError) as exc:
                self.events -= 1
                self._last = None  # the reader's cache must not learn this line
                if stats is None:
                    raise
                stats.flows -= 1
                stats.bad(line, f"not a Hubble flow: a field has the wrong type ({exc})")
        return self

    def add(self, f: dict[str, Any] | None, node: str = "", line: int = 0) -> None:
        """Reduce one flow object to its key (or count why it was skipped).

        ``None`` is a reply the reader recognised without parsing it (see
        :func:`cmesh.replay.reader.iter_flows`).  This is the per-flow hot path of a replay:
        it reads only the fields that decide, and converts labels once per end.
        """
        self.events += 1
        if f is None:
            self.skipped[Skip.REPLY] += 1
            self._last = Skip.REPLY
            return
        get = f.get
        reply = get("is_reply")
        if reply is None:
            reply = get("isReply")
            if isinstance(reply, dict):
                reply = reply.get("value", False)
            if reply is None and get("reply") is True:
                reply = True
        l7 = get("l7")
        l7kind, l7key = _l7(l7) if l7 is not None else ("", None)
        if reply is True or l7kind == "RESPONSE":
            if l7kind == "RESPONSE":
                self._answer(f)
            self.skipped[Skip.REPLY] += 1
            self._last = Skip.REPLY
            return
        verdict = get("verdict")
        if isinstance(verdict, int):
            observed = _FORWARD_NUM.get(verdict, 0)
        else:
            observed = _FORWARD.get(verdict or "", 0)
        if not observed:
            self.skipped[Skip.NO_VERDICT] += 1
            self._last = Skip.NO_VERDICT
            return
        ip = get("IP") or get("ip")
        l4 = _l4(get("l4"))
        if not isinstance(ip, dict) or l4 is None:
            self.skipped[Skip.NO_ADDRESS] += 1
            self._last = Skip.NO_ADDRESS
            return
        td = get("traffic_direction")
        side = _DIRECTIONS.get(td if td is not None else get("trafficDirection") or 0, 3)
        et = get("event_type") or get("eventType")
        etype = et.get("type", 0) if isinstance(et, dict) else 0
        if l7key is not None and l7kind == "REQUEST":
            if observed != 3:
                side = 3
        elif observed == 3:
            if etype != 5 and not self._policy_drop(f):
                self.skipped[Skip.OTHER_DROP] += 1
                self._last = Skip.OTHER_DROP
                return
        elif etype == 4 or etype == 0:
            point = _get(f, "trace_observation_point", "traceObservationPoint") or ""
            if etype == 4 or point:
                sub = et.get("sub_type", 0) if isinstance(et, dict) else 0
                if point == "TO_ENDPOINT" or (not point and sub == 0):
                    side = 3
                elif point == "TO_PROXY" or (not point and sub == 1):
                    pass
                elif point in _EGRESS_POINTS or (not point and sub in _EGRESS_SUBTYPES):
                    side = 1
                else:
                    self.skipped[Skip.NO_POLICY_POINT] += 1
                    self._last = Skip.NO_POLICY_POINT
                    return
        dst_ip = ip.get("destination") or ""
        src = self._end(get("source"), ip.get("source") or "")
        dst = self._end(get("destination"), dst_ip)
        dnames = get("destination_names")
        if dnames and dst_ip:
            if not isinstance(dnames, list) or not all(type(n) is str for n in dnames):
                raise TypeError("destination_names must be a list of names")
            known = self.names.get(dst_ip)
            if known is None:
                self.names[dst_ip] = set(dnames)
            elif not known.issuperset(dnames):
                known.update(dnames)
        node = node or get("node_name") or get("nodeName") or ""
        observer = self._observers.get(node)
        if observer is None:
            head, sep, _ = node.partition("/")
            observer = self._observers[node] = head if sep else ""
        key: RecordKey = (
            observer,
            src,
            dst,
            l4[0],
            l4[1],
            side,
            observed,
            l7key if l7kind == "REQUEST" else None,
        )
        self._last = key
        counts = self.counts
        n = counts.get(key)
        if n is None:
            counts[key] = 1
            self.first_line[key] = line
        else:
            counts[key] = n + 1

    @staticmethod
    def _policy_drop(f: dict[str, Any]) -> bool:
        reason = _get(f, "drop_reason", "dropReason") or 0
        desc = _get(f, "drop_reason_desc", "dropReasonDesc") or ""
        if not reason and not desc:
            return True  # a drop that says nothing about why: replay it as a policy drop
        return reason in _POLICY_DROPS or desc in _POLICY_DROP_NAMES

    def _end(self, ep: Any, ip: str) -> EndKey:
        if not isinstance(ep, dict):
            key: EndKey = ("", "", "", ip, 0)
            if key not in self.labels:
                if type(ip) is not str:
                    raise TypeError("IP addresses are strings")
                self.labels[key] = ()
            return key
        get = ep.get
        ident = get("identity") or 0
        key = (
            get("cluster_name") or get("clusterName") or "",
            get("namespace") or "",
            get("pod_name") or get("podName") or "",
            ip,
            ident if isinstance(ident, int) else int(ident),
        )
        if key not in self.labels:
            if not all(type(x) is str for x in key[:4]):
                raise TypeError("cluster_name, namespace, pod_name and IP addresses are strings")
            labels = get("labels")
            if labels is not None and (
                not isinstance(labels, list) or not all(type(x) is str for x in labels)
            ):
                raise TypeError("labels must be a list of strings")
            self._remember(key, tuple(labels) if labels else (), ep)
        return key

    def _remember(self, end: EndKey, labels: tuple[str, ...], ep: Any) -> None:
        self.labels[end] = labels
        wl = ep.get("workloads") if isinstance(ep, dict) else None
        if isinstance(wl, list) and wl and isinstance(wl[0], dict):
            self.workloads[end] = str(wl[0].get("name") or "")

    def _answer(self, f: dict[str, Any]) -> None:
        """A DNS response teaches which addresses a name has (what the DNS proxy learns)."""
        dns = (f.get("l7") or {}).get("dns")
        if not isinstance(dns, dict):
            return
        query = str(dns.get("query") or "")
        for addr in dns.get("ips") or ():
            self.names.setdefault(str(addr), set()).add(query)
