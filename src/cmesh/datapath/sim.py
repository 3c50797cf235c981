"""The simulated datapath: a connection's packets through LB, policy, proxy and conntrack.

:class:`Simulator` runs one tool invocation's traffic against a :class:`Mesh` and records what
each cluster's Hubble would see (ref §4.2, §9 step 6):

* the source's egress policy verdict (when its egress is enforced), then its drops — one per
  SYN (re)transmission before the client gives up — or a trace towards the destination;
* the destination's ingress verdict, drops, or ``to-endpoint``; the reply traced back
  (``is_reply``), because conntrack lets replies of an allowed connection pass (ref §2.4);
* when L7 rules apply on the port, the redirect to the proxy and the proxy's access log
  (:mod:`cmesh.datapath.proxy`); DNS goes through the DNS proxy (:mod:`cmesh.datapath.dns`).

Time is simulated: ``now_ns`` is when the tool started and every event advances it; waiting for
a timeout only moves the clock.  Nothing here touches the store: the caller saves the flows.
"""

from __future__ import annotations

import enum
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from cmesh.datapath import proxy
from cmesh.datapath.observe import hubble_endpoint, policies
from cmesh.datapath.peers import Mesh, Peer, PeerKind
from cmesh.datapath.requests import Request, Response
from cmesh.datapath.tracer import ServiceHop, translate
from cmesh.datapath.verdict import FlowVerdict, Side, decide
from cmesh.errors import CmeshError
from cmesh.hubble import (
    IP,
    TCP,
    UDP,
    DropReason,
    Flow,
    ICMPv4,
    PolicyMatchType,
    Service,
    TCPFlags,
    TracePoint,
    TraceReason,
    TrafficDirection,
    Verdict,
    as_drop,
    as_policy_verdict,
    as_trace,
    make_uuid,
    node_name,
)
from cmesh.hubble import Endpoint as HubbleEndpoint
from cmesh.policy.types import Protocol
from cmesh.policy.types import Verdict as PVerdict
from cmesh.policy.view import Endpoint

#: When a TCP client retransmits its SYN (seconds after the first), as Linux does.
SYN_RETRIES = (0.0, 1.0, 3.0, 7.0, 15.0, 31.0)


class Status(enum.Enum):
    OK = "ok"
    TIMEOUT = "timeout"  # dropped: the client never hears back
    REFUSED = "refused"  # RST / nothing listens / no service backend


@dataclass
class Connection:
    status: Status
    src: Peer
    dst: Peer
    port: int
    protocol: Protocol
    verdict: FlowVerdict | None = None
    hop: ServiceHop | None = None
    elapsed: float = 0.0
    detail: str = ""
    sport: int = 0
    request: Request | None = None
    response: Response | None = None
    proxied: list[str] = field(default_factory=list)
    l7_verdict: str = ""

    @property
    def ok(self) -> bool:
        return self.status is Status.OK


@dataclass
class Simulator:
    """One run's traffic over ``mesh`` (whose hosts table, trust domains and DNS reject code
    it uses), starting at ``now_ns``."""

    mesh: Mesh
    now_ns: int
    learned: list[tuple[str, str, str, tuple[str, ...], int]] = field(
        default_factory=list
    )  # (cluster, ns/pod, name, ips, ttl)
    flows: dict[str, list[Flow]] = field(default_factory=lambda: defaultdict(list))
    _seq: int = 0
    #: Each peer as a cluster's Hubble shows it, by (viewer, local node, kind, ip, cluster):
    #: every packet of a connection names the same ends.  Learning a name can change a world
    #: address's identity, so :meth:`learn` forgets them.
    _ends: dict[tuple[str, str, PeerKind, str, str], HubbleEndpoint] = field(default_factory=dict)

    def learn(self, ep: Endpoint, name: str, ips: tuple[str, ...], ttl: int) -> None:
        """The DNS proxy saw ``name`` answered with ``ips`` for endpoint ``ep`` (ref §2.11)."""
        self.learned.append((ep.cluster, f"{ep.namespace}/{ep.name}", name, tuple(ips), ttl))
        self.mesh.views[ep.cluster].learn_fqdn(name, ips)
        self._ends.clear()

    # -- clock and events ------------------------------------------------------------------
    def tick(self, seconds: float = 0.000001) -> int:
        self.now_ns += max(int(seconds * 1e9), 1)
        return self.now_ns

    def emit(self, cluster: str, flow: Flow) -> None:
        self._seq += 1
        self.flows[cluster].append(
            flow.with_(time=self.tick(), uuid=make_uuid(cluster, self.now_ns, self._seq))
        )

    def source_port(self, *parts: object) -> int:
        """An ephemeral port, deterministic for a given flow of a given run."""
        key = "|".join(map(str, (*parts, self._seq)))
        return 32768 + int.from_bytes(hashlib.sha256(key.encode()).digest()[:2], "big") % 28000

    # -- flows of one packet -----------------------------------------------------------------
    def base(
        self,
        viewer: str,
        node: str,
        src: Peer,
        dst: Peer,
        l4: object,
        hop: ServiceHop | None,
        names: tuple[str, ...] = (),
    ) -> Flow:
        local = src.endpoint.node if (src.endpoint and src.endpoint.cluster == viewer) else node
        return Flow(
            node_name=node_name(viewer, node),
            IP=IP(src.ip, dst.ip),
            l4=l4,  # type: ignore[arg-type]
            source=self._end(viewer, local, src),
            destination=self._end(viewer, local, dst),
            destination_service=Service(hop.service.name, hop.service.namespace) if hop else None,
            destination_names=names,
        )

    def _end(self, viewer: str, local: str, peer: Peer) -> HubbleEndpoint:
        key = (viewer, local, peer.kind, peer.ip, peer.cluster)
        end = self._ends.get(key)
        if end is None:
            end = self._ends[key] = hubble_endpoint(self.mesh, viewer, local, peer)
        return end

    def _l4(
        self, protocol: Protocol, sport: int, dport: int, *, reply: bool = False, flags: str = "SYN"
    ) -> object:
        if protocol is Protocol.UDP:
            return UDP(dport, sport) if reply else UDP(sport, dport)
        if protocol is Protocol.ICMP:
            return ICMPv4(0 if reply else 8, 0)
        f = TCPFlags.of(*flags.split(","))
        return TCP(dport, sport, f) if reply else TCP(sport, dport, f)

    def _verdict_event(
        self, cluster: str, base: Flow, side: Side, direction: TrafficDirection
    ) -> None:
        d = side.decision
        if not d.enforced:
            return
        hv = {
            PVerdict.FORWARDED: Verdict.FORWARDED,
            PVerdict.REDIRECTED: Verdict.REDIRECTED,
            PVerdict.DROPPED: Verdict.DROPPED,
            PVerdict.AUDIT: Verdict.AUDIT,
        }[d.verdict]
        refs = (d.denied_by or d.default_deny_by) if d.verdict is PVerdict.DROPPED else d.allowed_by
        reason = (
            DropReason(d.drop_reason.value)
            if d.drop_reason is not None and d.verdict is PVerdict.DROPPED
            else 0
        )
        flow = as_policy_verdict(
            base,
            hv,
            PolicyMatchType(d.match_type.value),
            direction,
            drop_reason=reason,
            policies=policies(refs),
            proxy_port=15001 if hv is Verdict.REDIRECTED else 0,
        )
        if d.verdict is PVerdict.AUDIT:
            # the policies whose enforcement would have dropped the flow (ref §2.12, per-policy audit)
            would = d.audited_by or d.denied_by or d.default_deny_by
            side_name = "egress" if direction is TrafficDirection.EGRESS else "ingress"
            flow = flow.with_(**{f"{side_name}_denied_by": policies(would)})
        self.emit(cluster, flow)

    def _enforce(
        self,
        conn: Connection,
        side: Side,
        cluster: str,
        base: Flow,
        direction: TrafficDirection,
        timeout: float,
    ) -> bool:
        """One side's policy verdict event, then its drops or mutual auth; True when the
        connection ends there (the client times out)."""
        self._verdict_event(cluster, base, side, direction)
        d = side.decision
        if not d.dropped:
            return not proxy.auth(self, conn, side, cluster, base, direction, timeout)
        reason = DropReason(d.drop_reason.value) if d.drop_reason else DropReason.POLICY_DENIED
        drop = as_drop(
            base, reason, direction, denied_by=policies(d.denied_by or d.default_deny_by)
        )
        conn.status = Status.TIMEOUT
        conn.elapsed = self.retransmit(cluster, drop, conn.protocol, timeout)
        conn.detail = f"dropped at {direction.name.lower()} ({reason.name})"
        return True

    def retransmit(self, cluster: str, drop: Flow, protocol: Protocol, timeout: float) -> float:
        """``drop`` once per packet the client sends before giving up at ``timeout`` (every
        SYN retransmission for TCP, the one datagram or echo otherwise), then the wait for
        the timeout; returns the time spent."""
        tries = [t for t in SYN_RETRIES if t < timeout] if protocol is Protocol.TCP else [0.0]
        last = 0.0
        for t in tries:
            self.tick(t - last)
            last = t
            self.emit(cluster, drop)
        self.tick(timeout - last)
        return timeout

    # -- a connection --------------------------------------------------------------------------
    def connect(
        self,
        src: Peer,
        dst_ip: str,
        port: int,
        protocol: Protocol,
        *,
        timeout: float = 5.0,
        names: tuple[str, ...] = (),
        request: Request | None = None,
    ) -> Connection:
        """Open a connection (TCP SYN, a UDP datagram, an ICMP echo) and follow it.

        With a ``request`` (an HTTP request or a DNS query), L7 proxies on the way decide it
        and the answer (the server's, or the proxy's 403/REFUSED) lands in ``.response``.
        """
        assert src.endpoint is not None
        ep = src.endpoint
        dst = self.mesh.resolve(ep.cluster, dst_ip)
        hop: ServiceHop | None = None
        sport = self.source_port(ep.ip, dst_ip, port)
        if dst.kind is PeerKind.SERVICE and dst.service is not None:
            try:
                hop = translate(self.mesh, src, dst, protocol, port, sport)
            except CmeshError as exc:
                base = self.base(
                    ep.cluster, ep.node, src, dst, self._l4(protocol, sport, port), None, names
                )
                self.emit(
                    ep.cluster,
                    as_drop(base, DropReason.SERVICE_BACKEND_NOT_FOUND, TrafficDirection.EGRESS),
                )
                return Connection(
                    Status.REFUSED, src, dst, port, protocol, detail=exc.message, sport=sport
                )
            dst, port = hop.backend, hop.target_port
        fv = decide(self.mesh, src, dst, protocol, port, explain=False)
        conn = Connection(
            Status.OK, src, dst, port, protocol, fv, hop, sport=sport, request=request
        )
        l4 = self._l4(protocol, sport, port)
        src_base = self.base(ep.cluster, ep.node, src, dst, l4, hop, names)
        if fv.egress is not None:
            if self._enforce(
                conn, fv.egress, ep.cluster, src_base, TrafficDirection.EGRESS, timeout
            ):
                return conn
            if request is not None and proxy.redirect(
                self, conn, fv.egress, ep.cluster, src_base, TrafficDirection.EGRESS
            ):
                return conn
        dep = dst.endpoint
        same_node = dep is not None and dep.cluster == ep.cluster and dep.node == ep.node
        if not same_node:
            point = TracePoint.TO_OVERLAY if dst.kind is PeerKind.POD else TracePoint.TO_STACK
            self.emit(ep.cluster, as_trace(src_base, point, TrafficDirection.EGRESS))
        if dep is None or dst.kind is not PeerKind.POD:
            return self._outside(conn, src_base, timeout)
        dst_base = self.base(dep.cluster, dep.node, src, dst, l4, hop, names)
        if fv.ingress is not None and self._enforce(
            conn, fv.ingress, dep.cluster, dst_base, TrafficDirection.INGRESS, timeout
        ):
            return conn
        listening = self.listening(dst, port, protocol)
        if not listening:
            self.emit(dep.cluster, as_trace(dst_base, TracePoint.TO_LXC, TrafficDirection.INGRESS))
            self.reply(conn, flags="RST,ACK")
            conn.status, conn.detail = (
                Status.REFUSED,
                f"nothing listens on {port}/{protocol.value} in {dep.namespace}/{dep.name}",
            )
            return conn
        if (
            request is not None
            and fv.ingress is not None
            and proxy.redirect(
                self, conn, fv.ingress, dep.cluster, dst_base, TrafficDirection.INGRESS
            )
        ):
            return conn
        self.emit(dep.cluster, as_trace(dst_base, TracePoint.TO_LXC, TrafficDirection.INGRESS))
        self.reply(conn)
        if request is not None:
            proxy.serve(self, conn)
        return conn

    def reply(self, conn: Connection, *, flags: str = "SYN,ACK") -> None:
        """The reply packet, allowed by conntrack, traced where it arrives (ref §2.4)."""
        ep = conn.src.endpoint
        assert ep is not None
        l4 = self._l4(conn.protocol, conn.sport, conn.port, reply=True, flags=flags)
        back = self.base(ep.cluster, ep.node, conn.dst, conn.src, l4, None)
        self.emit(
            ep.cluster,
            as_trace(back, TracePoint.TO_LXC, TrafficDirection.EGRESS, reason=TraceReason.REPLY),
        )

    def _outside(self, conn: Connection, base: Flow, timeout: float) -> Connection:
        """A destination outside the pods: a node, the world (answers if the hosts table knows it)."""
        dst = conn.dst
        if dst.kind is PeerKind.NODE:
            answers = conn.port in (22, 10250, 6443, 443) or conn.protocol is Protocol.ICMP
        else:
            answers = bool(dst.names)  # the hosts table knows the address
        if not answers:
            if dst.kind is PeerKind.NODE:
                conn.status, conn.detail = (
                    Status.REFUSED,
                    f"{dst.display} does not listen on {conn.port}",
                )
                self.reply(conn, flags="RST,ACK")
            else:
                conn.status, conn.detail = (
                    Status.TIMEOUT,
                    f"no answer from {dst.ip} (not in the hosts table: `cmesh dns add NAME {dst.ip}`)",
                )
                self.tick(timeout)
                conn.elapsed = timeout
            return conn
        self.reply(conn)
        if conn.request is not None:
            proxy.serve(self, conn)
        return conn

    def listening(self, dst: Peer, port: int, protocol: Protocol) -> bool:
        """A pod listens on its declared container ports; one that declares none, on any port."""
        if protocol is Protocol.ICMP:
            return True
        ep = dst.endpoint
        if ep is None:
            return True
        declared = [p for p in ep.pod.ports]
        if not declared:
            return True
        return any(p.port == port and p.protocol == protocol.value for p in declared)
