"""Hubble's enums with flow.proto's names and numbers, and the monitor event codes (ref §4.1).

Every enum here is written into flow JSON by member *name* (protojson), so member names are the
proto names verbatim, including the mixed-case ``IPv4``.  Two families of numbers meet here:

* proto enums (``api/v1/flow/flow.proto``): :class:`FlowType`, :class:`TrafficDirection`,
  :class:`TraceObservationPoint`, :class:`DropReason`, ...;
* monitor codes (``pkg/monitor/api/types.go``): :class:`MessageType` is ``event_type.type`` and
  :class:`TracePoint` is ``event_type.sub_type`` of a trace event.  They differ from the proto
  enum only in one place: monitor ``0`` (to-endpoint) is proto ``TO_ENDPOINT = 101``.

``Verdict`` and ``PolicyMatchType`` are the policy engine's enums (``cmesh.policy``), which
already carry Hubble's names and numbers, so the datapath hands its verdicts over unconverted.

>>> TracePoint.TO_LXC.name_text, TracePoint.TO_LXC.observation_point.name
('to-endpoint', 'TO_ENDPOINT')
>>> drop_reason_text(133), drop_reason_text(181), drop_reason_text(7)
('Policy denied', 'Policy denied by denylist', '7')
"""

from __future__ import annotations

import enum

from cmesh.policy import MatchType as PolicyMatchType
from cmesh.policy import Verdict

__all__ = [
    "AuthType",
    "DropReason",
    "FlowType",
    "IPVersion",
    "L7FlowType",
    "MessageType",
    "PolicyMatchType",
    "TraceObservationPoint",
    "TracePoint",
    "TraceReason",
    "TrafficDirection",
    "Verdict",
    "drop_reason_text",
    "policy_match_text",
]


class FlowType(enum.Enum):
    UNKNOWN_TYPE = 0
    L3_L4 = 1
    L7 = 2
    SOCK = 3


class TrafficDirection(enum.Enum):
    TRAFFIC_DIRECTION_UNKNOWN = 0
    INGRESS = 1
    EGRESS = 2


class IPVersion(enum.Enum):
    IP_NOT_USED = 0
    IPv4 = 1
    IPv6 = 2


class L7FlowType(enum.Enum):
    UNKNOWN_L7_TYPE = 0
    REQUEST = 1
    RESPONSE = 2
    SAMPLE = 3


class AuthType(enum.Enum):
    """``auth_type`` of policy-verdict events (the current proto names)."""

    DISABLED = 0
    SPIRE = 1
    TEST_ALWAYS_FAIL = 2


class TraceObservationPoint(enum.Enum):
    UNKNOWN_POINT = 0
    TO_PROXY = 1
    TO_HOST = 2
    TO_STACK = 3
    TO_OVERLAY = 4
    TO_ENDPOINT = 101
    FROM_ENDPOINT = 5
    FROM_PROXY = 6
    FROM_HOST = 7
    FROM_STACK = 8
    FROM_OVERLAY = 9
    FROM_NETWORK = 10
    TO_NETWORK = 11
    FROM_CRYPTO = 12
    TO_CRYPTO = 13


class TraceReason(enum.Enum):
    """The conntrack reason of a trace event; ``REPLY`` makes ``is_reply`` true (ref §4.2)."""

    TRACE_REASON_UNKNOWN = 0
    NEW = 1
    ESTABLISHED = 2
    REPLY = 3
    RELATED = 4
    REOPENED = 5
    SRV6_ENCAP = 6
    SRV6_DECAP = 7
    ENCRYPT_OVERLAY = 8


class DropReason(enum.Enum):
    """flow.proto's DropReason; values shared with ``bpf/lib/common.h`` (ref §4.1)."""

    DROP_REASON_UNKNOWN = 0
    INVALID_SOURCE_MAC = 130
    INVALID_DESTINATION_MAC = 131
    INVALID_SOURCE_IP = 132
    POLICY_DENIED = 133
    INVALID_PACKET_DROPPED = 134
    CT_TRUNCATED_OR_INVALID_HEADER = 135
    CT_MISSING_TCP_ACK_FLAG = 136
    CT_UNKNOWN_L4_PROTOCOL = 137
    CT_CANNOT_CREATE_ENTRY_FROM_PACKET = 138
    UNSUPPORTED_L3_PROTOCOL = 139
    MISSED_TAIL_CALL = 140
    ERROR_WRITING_TO_PACKET = 141
    UNKNOWN_L4_PROTOCOL = 142
    UNKNOWN_ICMPV4_CODE = 143
    UNKNOWN_ICMPV4_TYPE = 144
    UNKNOWN_ICMPV6_CODE = 145
    UNKNOWN_ICMPV6_TYPE = 146
    ERROR_RETRIEVING_TUNNEL_KEY = 147
    ERROR_RETRIEVING_TUNNEL_OPTIONS = 148
    INVALID_GENEVE_OPTION = 149
    UNKNOWN_L3_TARGET_ADDRESS = 150
    STALE_OR_UNROUTABLE_IP = 151
    NO_MATCHING_LOCAL_CONTAINER_FOUND = 152
    ERROR_WHILE_CORRECTING_L3_CHECKSUM = 153
    ERROR_WHILE_CORRECTING_L4_CHECKSUM = 154
    CT_MAP_INSERTION_FAILED = 155
    INVALID_IPV6_EXTENSION_HEADER = 156
    IP_FRAGMENTATION_NOT_SUPPORTED = 157
    SERVICE_BACKEND_NOT_FOUND = 158
    NO_TUNNEL_OR_ENCAPSULATION_ENDPOINT = 160
    FAILED_TO_INSERT_INTO_PROXYMAP = 161
    REACHED_EDT_RATE_LIMITING_DROP_HORIZON = 162
    UNKNOWN_CONNECTION_TRACKING_STATE = 163
    LOCAL_HOST_IS_UNREACHABLE = 164
    NO_CONFIGURATION_AVAILABLE_TO_PERFORM_POLICY_DECISION = 165
    UNSUPPORTED_L2_PROTOCOL = 166
    NO_MAPPING_FOR_NAT_MASQUERADE = 167
    UNSUPPORTED_PROTOCOL_FOR_NAT_MASQUERADE = 168
    FIB_LOOKUP_FAILED = 169
    ENCAPSULATION_TRAFFIC_IS_PROHIBITED = 170
    INVALID_IDENTITY = 171
    UNKNOWN_SENDER = 172
    NAT_NOT_NEEDED = 173
    IS_A_CLUSTERIP = 174
    FIRST_LOGICAL_DATAGRAM_FRAGMENT_NOT_FOUND = 175
    FORBIDDEN_ICMPV6_MESSAGE = 176
    DENIED_BY_LB_SRC_RANGE_CHECK = 177
    SOCKET_LOOKUP_FAILED = 178
    SOCKET_ASSIGN_FAILED = 179
    PROXY_REDIRECTION_NOT_SUPPORTED_FOR_PROTOCOL = 180
    POLICY_DENY = 181
    VLAN_FILTERED = 182
    INVALID_VNI = 183
    INVALID_TC_BUFFER = 184
    NO_SID = 185
    MISSING_SRV6_STATE = 186
    NAT46 = 187
    NAT64 = 188
    AUTH_REQUIRED = 189
    CT_NO_MAP_FOUND = 190
    SNAT_NO_MAP_FOUND = 191
    INVALID_CLUSTER_ID = 192
    UNSUPPORTED_PROTOCOL_FOR_DSR_ENCAP = 193
    NO_EGRESS_GATEWAY = 194
    UNENCRYPTED_TRAFFIC = 195
    TTL_EXCEEDED = 196
    NO_NODE_ID = 197
    DROP_RATE_LIMITED = 198
    IGMP_HANDLED = 199
    IGMP_SUBSCRIBED = 200
    MULTICAST_HANDLED = 201
    DROP_HOST_NOT_READY = 202
    DROP_EP_NOT_READY = 203
    DROP_NO_EGRESS_IP = 204
    DROP_PUNT_PROXY = 205

    @property
    def text(self) -> str:
        """The human string ``hubble observe`` prints as the TYPE of a drop (``drop.go``)."""
        return drop_reason_text(self.value)


class MessageType(enum.Enum):
    """``event_type.type``: the monitor message type (``pkg/monitor/api/types.go``)."""

    DROP = 1
    DEBUG = 2
    CAPTURE = 3
    TRACE = 4
    POLICY_VERDICT = 5
    RECORDER = 6
    TRACE_SOCK = 7
    ACCESS_LOG = 129
    AGENT = 130

    @property
    def filter_name(self) -> str:
        """The ``--type`` name: ``drop``, ``trace``, ``policy-verdict``, ``l7``, ..."""
        return _MESSAGE_TYPE_NAMES[self]

    @classmethod
    def from_filter_name(cls, name: str) -> MessageType | None:
        for member, text in _MESSAGE_TYPE_NAMES.items():
            if text == name:
                return member
        return None


_MESSAGE_TYPE_NAMES = {
    MessageType.DROP: "drop",
    MessageType.DEBUG: "debug",
    MessageType.CAPTURE: "capture",
    MessageType.TRACE: "trace",
    MessageType.POLICY_VERDICT: "policy-verdict",
    MessageType.RECORDER: "recorder",
    MessageType.TRACE_SOCK: "trace-sock",
    MessageType.ACCESS_LOG: "l7",
    MessageType.AGENT: "agent",
}


class TracePoint(enum.Enum):
    """``event_type.sub_type`` of a trace event (``bpf/lib/trace.h`` observation points)."""

    TO_LXC = 0
    TO_PROXY = 1
    TO_HOST = 2
    TO_STACK = 3
    TO_OVERLAY = 4
    FROM_LXC = 5
    FROM_PROXY = 6
    FROM_HOST = 7
    FROM_STACK = 8
    FROM_OVERLAY = 9
    FROM_NETWORK = 10
    TO_NETWORK = 11
    FROM_CRYPTO = 12
    TO_CRYPTO = 13

    @property
    def name_text(self) -> str:
        """``to-endpoint``, ``from-network``, ...: the compact TYPE and the ``--type`` subtype."""
        return _TRACE_POINT_NAMES[self]

    @property
    def observation_point(self) -> TraceObservationPoint:
        """The proto ``trace_observation_point`` (monitor 0 is proto ``TO_ENDPOINT``)."""
        if self is TracePoint.TO_LXC:
            return TraceObservationPoint.TO_ENDPOINT
        return TraceObservationPoint(self.value)

    @classmethod
    def from_name_text(cls, text: str) -> TracePoint | None:
        for member, name in _TRACE_POINT_NAMES.items():
            if name == text:
                return member
        return None


_TRACE_POINT_NAMES = {
    TracePoint.TO_LXC: "to-endpoint",
    TracePoint.TO_PROXY: "to-proxy",
    TracePoint.TO_HOST: "to-host",
    TracePoint.TO_STACK: "to-stack",
    TracePoint.TO_OVERLAY: "to-overlay",
    TracePoint.FROM_LXC: "from-endpoint",
    TracePoint.FROM_PROXY: "from-proxy",
    TracePoint.FROM_HOST: "from-host",
    TracePoint.FROM_STACK: "from-stack",
    TracePoint.FROM_OVERLAY: "from-overlay",
    TracePoint.FROM_NETWORK: "from-network",
    TracePoint.TO_NETWORK: "to-network",
    TracePoint.FROM_CRYPTO: "from-crypto",
    TracePoint.TO_CRYPTO: "to-crypto",
}

# pkg/monitor/api/drop.go ``errors``: the strings the compact printer shows as TYPE and
# cilium_drop_count_total uses as ``reason``.  Codes missing here print as their number.
_DROP_TEXT = {
    0: "Success",
    2: "Invalid packet",
    130: "Invalid source mac",
    131: "Invalid destination mac",
    132: "Invalid source ip",
    133: "Policy denied",
    134: "Invalid packet",
    135: "CT: Truncated or invalid header",
    136: "CT: Missing TCP ACK flag",
    137: "CT: Unknown L4 protocol",
    138: "CT: Can't create entry from packet",
    139: "Unsupported L3 protocol",
    140: "Missed tail call",
    141: "Error writing to packet",
    142: "Unknown L4 protocol",
    143: "Unknown ICMPv4 code",
    144: "Unknown ICMPv4 type",
    145: "Unknown ICMPv6 code",
    146: "Unknown ICMPv6 type",
    147: "Error retrieving tunnel key",
    148: "Error retrieving tunnel options",
    149: "Invalid Geneve option",
    150: "Unknown L3 target address",
    151: "Stale or unroutable IP",
    152: "No matching local container found",
    153: "Error while correcting L3 checksum",
    154: "Error while correcting L4 checksum",
    155: "CT: Map insertion failed",
    156: "Invalid IPv6 extension header",
    157: "IP fragmentation not supported",
    158: "Service backend not found",
    160: "No tunnel/encapsulation endpoint (datapath BUG!)",
    161: "Failed to insert into proxymap",
    162: "Reached EDT rate-limiting drop horizon",
    163: "Unknown connection tracking state",
    164: "Local host is unreachable",
    165: "No configuration available to perform policy decision",
    166: "Unsupported L2 protocol",
    167: "No mapping for NAT masquerade",
    168: "Unsupported protocol for NAT masquerade",
    169: "FIB lookup failed",
    170: "Encapsulation traffic is prohibited",
    171: "Invalid identity",
    172: "Unknown sender",
    173: "NAT not needed",
    174: "Is a ClusterIP",
    175: "First logical datagram fragment not found",
    176: "Forbidden ICMPv6 message",
    177: "Denied by LB src range check",
    178: "Socket lookup failed",
    179: "Socket assign failed",
    180: "Proxy redirection not supported for protocol",
    181: "Policy denied by denylist",
    182: "VLAN traffic disallowed by VLAN filter",
    183: "Incorrect VNI from VTEP",
    184: "Failed to update or lookup TC buffer",
    185: "No SID was found for the IP address",
    186: "SRv6 state was removed during tail call",
    187: "L3 translation from IPv4 to IPv6 failed (NAT46)",
    188: "L3 translation from IPv6 to IPv4 failed (NAT64)",
    189: "Authentication required",
    190: "No conntrack map found",
    191: "No nat map found",
    192: "Invalid ClusterID",
    193: "Unsupported packet protocol for DSR encapsulation",
    194: "No egress gateway found",
    195: "Traffic is unencrypted",
    196: "TTL exceeded",
    197: "No node ID found",
    198: "Rate limited",
    199: "IGMP handled",
    200: "IGMP subscribed",
    201: "Multicast handled",
    202: "Host datapath not ready",
    203: "Endpoint policy program not available",
    204: "No Egress IP configured",
    205: "Punt to proxy",
}


def drop_reason_text(code: int) -> str:
    """``api.DropReason(uint8(code))``: the human string, or the number when unknown."""
    return _DROP_TEXT.get(code & 0xFF, str(code & 0xFF))


_MATCH_TEXT = {m.value: m.text for m in PolicyMatchType}


def policy_match_text(match_type: int) -> str:
    """``api.PolicyMatchType(n).String()``: ``L3-L4``, ``none``, ... or ``unknown``."""
    return _MATCH_TEXT.get(match_type, "unknown")
