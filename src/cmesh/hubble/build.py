"""Turn a packet's facts into the Flow Hubble would record for one monitor event (ref §4.2).

The datapath describes the packet once as a *base* :class:`Flow` (time, uuid, node, addresses,
L4, both endpoints, names, services) and derives one flow per event it emits with the helpers
here, which fill what ``pkg/hubble/parser/threefour/parser.go`` and ``seven/parser.go`` derive:

==================  =========  =====================  ==========================================
helper              verdict    event_type             is_reply
==================  =========  =====================  ==========================================
:func:`as_trace`    FORWARDED  trace (4), obs point   from the CT reason; ``None`` if unknown
:func:`as_drop`     DROPPED    drop (1), reason       ``None`` (unknown)
:func:`as_policy_   given      policy-verdict (5)     ``False``; ``None`` when DROPPED
verdict`
:func:`as_l7`       given      access log (129)       ``True`` for a RESPONSE record
==================  =========  =====================  ==========================================

Each sets ``Type`` and ``Summary`` (:mod:`cmesh.hubble.summary`) in the one copy it makes of
``base``: these helpers run for every event the simulated datapath emits.

>>> from cmesh.hubble.flow import Flow, IP, TCP, TCPFlags
>>> base = Flow(time=1, node_name=node_name("c2", "node-1"), IP=IP("10.1.0.5", "10.2.0.7"),
...             l4=TCP(54842, 80, TCPFlags(SYN=True)))
>>> f = as_drop(base, DropReason.POLICY_DENIED, TrafficDirection.INGRESS)
>>> (f.verdict.name, f.drop_reason, f.event_type.sub_type, f.is_reply, f.Summary)
('DROPPED', 133, 133, None, 'TCP Flags: SYN')
"""

from __future__ import annotations

import enum
import uuid as uuidlib
from collections.abc import Iterable

from cmesh.hubble.enums import (
    AuthType,
    DropReason,
    FlowType,
    L7FlowType,
    MessageType,
    PolicyMatchType,
    TracePoint,
    TraceReason,
    TrafficDirection,
    Verdict,
)
from cmesh.hubble.flow import DNS, HTTP, CiliumEventType, Flow, Layer7, Policy
from cmesh.hubble.summary import l7_summary, summarize
from cmesh.labels import (
    POLICY_LABEL_DERIVED_FROM,
    POLICY_LABEL_NAME,
    POLICY_LABEL_NAMESPACE,
)

_UUID_NAMESPACE = uuidlib.UUID("6c6d6573-6868-7562-626c-65666c6f7773")


def node_name(cluster: str, node: str) -> str:
    """``<cluster>/<node>``, Cilium's absolute node name (``pkg/node/types/nodename.go``)."""
    return f"{cluster}/{node}"


def make_uuid(*parts: object) -> str:
    """A deterministic flow uuid from what identifies the event (a UUIDv5 of ``parts``)."""
    return str(uuidlib.uuid5(_UUID_NAMESPACE, "\x1f".join(str(p) for p in parts)))


def policy_from_ref(kind: str, name: str, namespace: str = "", revision: int = 0) -> Policy:
    """The ``Policy`` Hubble attributes a flow to, with the ``io.cilium.k8s.policy.*`` labels."""
    labels = [f"k8s:{POLICY_LABEL_DERIVED_FROM}={kind}", f"k8s:{POLICY_LABEL_NAME}={name}"]
    if namespace:
        labels.append(f"k8s:{POLICY_LABEL_NAMESPACE}={namespace}")
    return Policy(name, namespace, tuple(sorted(labels)), revision, kind)


def _code(reason: DropReason | enum.Enum | int) -> int:
    return reason.value if isinstance(reason, enum.Enum) else int(reason)


def _drop_desc(code: int) -> DropReason:
    try:
        return DropReason(code)
    except ValueError:
        return DropReason.DROP_REASON_UNKNOWN


def as_trace(
    base: Flow,
    point: TracePoint,
    traffic_direction: TrafficDirection,
    *,
    reason: TraceReason = TraceReason.NEW,
    proxy_port: int = 0,
) -> Flow:
    """A trace event (FORWARDED) at ``point``; ``reason`` REPLY marks a reply packet."""
    is_reply = None if reason is TraceReason.TRACE_REASON_UNKNOWN else reason is TraceReason.REPLY
    return base.with_(
        verdict=Verdict.FORWARDED,
        Type=FlowType.L3_L4,
        event_type=CiliumEventType(MessageType.TRACE.value, point.value),
        trace_observation_point=point.observation_point,
        trace_reason=reason,
        traffic_direction=traffic_direction,
        is_reply=is_reply,
        proxy_port=proxy_port if point is TracePoint.TO_PROXY else base.proxy_port,
        Summary=summarize(base),  # the layers the summary reads are the base's
    )


def as_drop(
    base: Flow,
    reason: DropReason | enum.Enum | int,
    traffic_direction: TrafficDirection,
    *,
    denied_by: Iterable[Policy] = (),
) -> Flow:
    """A drop event: ``reason`` is a DropReason (Hubble's or the policy engine's) or a code.

    ``traffic_direction`` is EGRESS when the dropping endpoint is the source (ref §4.2);
    ``denied_by`` lands in ``egress_denied_by`` or ``ingress_denied_by`` accordingly.
    """
    code = _code(reason)
    side = "egress" if traffic_direction is TrafficDirection.EGRESS else "ingress"
    return base.with_(
        verdict=Verdict.DROPPED,
        drop_reason=code,
        drop_reason_desc=_drop_desc(code),
        Type=FlowType.L3_L4,
        event_type=CiliumEventType(MessageType.DROP.value, code),
        traffic_direction=traffic_direction,
        is_reply=None,
        Summary=summarize(base),
        **{f"{side}_denied_by": tuple(denied_by)},
    )


def as_policy_verdict(
    base: Flow,
    verdict: Verdict,
    match_type: PolicyMatchType | int,
    traffic_direction: TrafficDirection,
    *,
    drop_reason: DropReason | enum.Enum | int = 0,
    policies: Iterable[Policy] = (),
    proxy_port: int = 0,
    auth_type: AuthType = AuthType.DISABLED,
) -> Flow:
    """A policy-verdict event, emitted for the first packet of a connection.

    ``policies`` are the deciding policies: ``*_allowed_by`` unless ``verdict`` is DROPPED,
    then ``*_denied_by``, on the side of ``traffic_direction``.  A DROPPED verdict carries its
    ``drop_reason`` (POLICY_DENIED, POLICY_DENY, AUTH_REQUIRED); REDIRECTED its ``proxy_port``.
    """
    dropped = verdict is Verdict.DROPPED
    code = _code(drop_reason) if dropped else 0
    side = "egress" if traffic_direction is TrafficDirection.EGRESS else "ingress"
    attributed = f"{side}_{'denied' if dropped else 'allowed'}_by"
    return base.with_(
        verdict=verdict,
        drop_reason=code,
        drop_reason_desc=_drop_desc(code),
        auth_type=auth_type,
        Type=FlowType.L3_L4,
        event_type=CiliumEventType(MessageType.POLICY_VERDICT.value, 0),
        traffic_direction=traffic_direction,
        policy_match_type=_code(match_type),
        is_reply=None if dropped else False,
        proxy_port=proxy_port,
        Summary=summarize(base),
        **{attributed: tuple(policies)},
    )


def as_l7(
    base: Flow,
    record: HTTP | DNS,
    l7_type: L7FlowType,
    traffic_direction: TrafficDirection,
    *,
    verdict: Verdict = Verdict.FORWARDED,
    latency_ns: int = 0,
) -> Flow:
    """An L7 access-log event from the proxy; a RESPONSE is a reply (``is_reply`` true).

    Requests denied by L7 policy are DROPPED and answered by a 403 response (ref §4.2).
    """
    l7 = Layer7(l7_type, latency_ns, record)
    return base.with_(
        verdict=verdict,
        Type=FlowType.L7,
        l7=l7,
        event_type=CiliumEventType(MessageType.ACCESS_LOG.value, 0),
        traffic_direction=traffic_direction,
        is_reply=l7_type is L7FlowType.RESPONSE,
        Summary=l7_summary(l7),
    )
