"""The output formats of ``hubble observe`` (ref §4.3, §4.4), as pure text.

Mirrors ``hubble/pkg/printer/printer.go`` without colours.  A :class:`Printer` turns flows into
text one at a time (``write``) so ``--follow`` can stream; ``table`` output is aligned like Go's
``tabwriter`` (padding 3) and therefore only appears at :meth:`Printer.flush`.

Compact line (``WriteProtoFlow``)::

    <time>[ [<node>]]: <src> (<src identity>) <arrow> <dst> (<dst identity>) <TYPE> <VERDICT> (<summary>)

* host: ``ns/pod:port``, else ``ns/svc:port``, else the DNS names joined by ``,``, else the IP;
  the port is left out when there is none or it is 0; ``--numeric`` (or
  ``--ip-translation=false``) always prints the IP.  Reserved identities print by name,
  ``(world)``, even with ``--numeric``: Hubble's numeric flag only turns IP translation off;
* arrow ``->`` (is_reply false), ``<-`` with both ends swapped (true), ``<>`` (unknown);
* TYPE: :func:`flow_type`; VERDICT: :func:`verdict_text`.

>>> from cmesh.hubble.flow import Flow, IP, TCP, Endpoint
>>> f = Flow(time=1_770_469_605_130_000_000, IP=IP("10.0.0.1", "10.0.0.2"), l4=TCP(59824, 80),
...          source=Endpoint(identity=31028, namespace="default", pod_name="tiefighter"),
...          destination=Endpoint(identity=2), is_reply=False, Summary="TCP Flags: SYN")
>>> print(Printer().write(f), end="")
Feb  7 13:06:45.130: default/tiefighter:59824 (ID:31028) -> 10.0.0.2:80 (world) UNKNOWN VERDICT_UNKNOWN (TCP Flags: SYN)
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from cmesh.hubble.enums import (
    AuthType,
    MessageType,
    TracePoint,
    TrafficDirection,
    Verdict,
    drop_reason_text,
    policy_match_text,
)
from cmesh.hubble.flow import SCTP, TCP, UDP, Flow, Policy
from cmesh.hubble.jsonpb import to_json_line
from cmesh.hubble.timefmt import format_time
from cmesh.identity import describe

DICT_SEPARATOR = "------------"


class Output(enum.Enum):
    COMPACT = "compact"
    DICT = "dict"
    TABLE = "table"
    JSON = "json"
    JSONPB = "jsonpb"


@dataclass(frozen=True, slots=True)
class PrinterOptions:
    """``-o``, ``--time-format``, ``--print-node-name``, ``--print-policy-names``,
    ``--ip-translation`` (``--numeric`` sets it false)."""

    output: Output = Output.COMPACT
    time_format: str = "StampMilli"
    node_name: bool = False
    policy_names: bool = False
    ip_translation: bool = True


def _join_host_port(host: str, port: str) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def hostname(
    ip: str, port: str, ns: str, pod: str, svc: str, names: Iterable[str], translate: bool
) -> str:
    """``Printer.Hostname``: pod, then service, then DNS names, then the IP; ``:port`` if set."""
    host = ip
    names = tuple(names)
    if translate:
        if pod:
            host = f"{ns}/{pod}" if ns else pod
        elif svc:
            host = f"{ns}/{svc}" if ns else svc
        elif names:
            host = ",".join(names)
    if port and port != "0":
        return _join_host_port(host, port)
    return host


def host_names(flow: Flow, translate: bool = True) -> tuple[str, str]:
    """Source and destination as the printer shows them (``GetHostNames``)."""
    if flow.IP is None:
        if flow.ethernet is not None:
            return flow.ethernet.source, flow.ethernet.destination
        return "", ""
    src_ns = flow.source.namespace if flow.source else ""
    src_pod = flow.source.pod_name if flow.source else ""
    dst_ns = flow.destination.namespace if flow.destination else ""
    dst_pod = flow.destination.pod_name if flow.destination else ""
    src_svc = dst_svc = ""
    if flow.source_service is not None:
        src_ns, src_svc = flow.source_service.namespace, flow.source_service.name
    if flow.destination_service is not None:
        dst_ns, dst_svc = flow.destination_service.namespace, flow.destination_service.name
    src_port = dst_port = ""
    if isinstance(flow.l4, TCP | UDP | SCTP):
        src_port, dst_port = str(flow.l4.source_port), str(flow.l4.destination_port)
    src = hostname(flow.IP.source, src_port, src_ns, src_pod, src_svc, flow.source_names, translate)
    dst = hostname(
        flow.IP.destination, dst_port, dst_ns, dst_pod, dst_svc, flow.destination_names, translate
    )
    return src, dst


def identity_text(identity: int) -> str:
    """``(ID:65841)``, or ``(world)`` for a reserved identity (``fmtIdentity``)."""
    return f"({describe(identity)})"


def flow_type(flow: Flow) -> str:
    """The TYPE column (``GetFlowType``): ``to-endpoint``, ``Policy denied``,
    ``policy-verdict:L3-L4 INGRESS``, ``http-request``, ``dns-response proxy``, ..."""
    if flow.l7 is not None:
        kind = flow.l7.type.name.lower()
        if flow.l7.http is not None:
            return f"http-{kind}"
        if flow.l7.dns is not None:
            return f"dns-{kind} {flow.l7.dns.observation_source}"
        return f"l7-{kind}"
    event = flow.event_type
    etype = event.type if event else 0
    sub = event.sub_type if event else 0
    if etype == MessageType.TRACE.value:
        try:
            return TracePoint(sub & 0xFF).name_text
        except ValueError:
            return str(sub & 0xFF)
    if etype == MessageType.DROP.value:
        return drop_reason_text(sub)
    if etype == MessageType.POLICY_VERDICT.value:
        direction = flow.traffic_direction.name
        return f"policy-verdict:{policy_match_text(flow.policy_match_type)} {direction}"
    return "UNKNOWN"


def _policy_names(policies: Iterable[Policy]) -> str:
    named = [f"{p.name} ({p.kind})" for p in policies if p.kind and p.name]
    return " BY " + ", ".join(named) if named else ""


#: VERDICT of a policy-verdict event, and the attribution ``--print-policy-names`` appends: an
#: AUDIT names the policy whose enforcement would have denied the flow.
_POLICY_VERDICT_TEXT = {
    Verdict.FORWARDED: ("ALLOWED", "allowed"),
    Verdict.REDIRECTED: ("ALLOWED", "allowed"),
    Verdict.DROPPED: ("DENIED", "denied"),
    Verdict.ERROR: ("DENIED", "denied"),
    Verdict.AUDIT: ("AUDITED", "denied"),
}


def verdict_text(flow: Flow, policy_names: bool = False) -> str:
    """The VERDICT column: the enum name, or ALLOWED/DENIED/AUDITED on policy verdicts."""
    is_pv = flow.event_type is not None and flow.event_type.type == MessageType.POLICY_VERDICT.value
    known = _POLICY_VERDICT_TEXT.get(flow.verdict) if is_pv else None
    if known is None:
        return flow.verdict.name
    text, attributed = known
    direction = flow.traffic_direction
    if policy_names and direction is not TrafficDirection.TRAFFIC_DIRECTION_UNKNOWN:
        text += _policy_names(getattr(flow, f"{direction.name.lower()}_{attributed}_by"))
    return text


def summary_text(flow: Flow) -> str:
    """The SUMMARY column: ``Summary`` plus ``; <auth type>`` when authentication applied."""
    if flow.auth_type is AuthType.DISABLED:
        return flow.Summary
    return f"{flow.Summary}; {flow.auth_type.name}"


def compact_line(flow: Flow, options: PrinterOptions = PrinterOptions()) -> str:
    """One compact line, without the newline (ref §4.4)."""
    src, dst = host_names(flow, options.ip_translation)
    src_id = identity_text(flow.source.identity if flow.source else 0)
    dst_id = identity_text(flow.destination.identity if flow.destination else 0)
    node = f" [{flow.node_name}]" if options.node_name else ""
    arrow = "->"
    if flow.is_reply is None:
        arrow = "<>"
    elif flow.is_reply:
        src, dst, src_id, dst_id, arrow = dst, src, dst_id, src_id, "<-"
    return (
        f"{format_time(flow.time, options.time_format)}{node}: {src} {src_id} {arrow} "
        f"{dst} {dst_id} {flow_type(flow)} {verdict_text(flow, options.policy_names)} "
        f"({summary_text(flow)})"
    )


def _dict_block(flow: Flow, options: PrinterOptions) -> str:
    src, dst = host_names(flow, options.ip_translation)
    lines = [f"  TIMESTAMP: {format_time(flow.time, options.time_format)}"]
    if options.node_name:
        lines.append(f"       NODE: {flow.node_name}")
    lines += [
        f"     SOURCE: {src}",
        f"DESTINATION: {dst}",
        f"       TYPE: {flow_type(flow)}",
        f"    VERDICT: {verdict_text(flow, options.policy_names)}",
        f"    SUMMARY: {summary_text(flow)}",
    ]
    return "\n".join(lines) + "\n"


def tabwrite(rows: list[list[str]], padding: int = 3, minwidth: int = 2) -> str:
    """Go ``tabwriter`` output for rows whose cells were tab-terminated but the last."""
    ncols = max((len(r) for r in rows), default=0) - 1
    widths = [
        max(minwidth, max(len(r[i]) for r in rows if len(r) > i + 1) + padding)
        for i in range(ncols)
    ]
    out = []
    for row in rows:
        cells = [c.ljust(widths[i]) for i, c in enumerate(row[:-1])]
        out.append("".join(cells) + row[-1] + "\n")
    return "".join(out)


class Printer:
    """Formats flows for one ``hubble observe`` run; owns only its line count and table rows."""

    def __init__(self, options: PrinterOptions = PrinterOptions()) -> None:
        self.options = options
        self._line = 0
        self._rows: list[list[str]] = []

    def write(self, flow: Flow) -> str:
        """The text to emit now for ``flow`` (empty for table output, see :meth:`flush`)."""
        o = self.options
        if o.output is Output.TABLE:
            if not self._rows:
                header = ["TIMESTAMP", *(["NODE"] if o.node_name else [])]
                self._rows.append([*header, "SOURCE", "DESTINATION", "TYPE", "VERDICT", "SUMMARY"])
            src, dst = host_names(flow, o.ip_translation)
            self._rows.append(
                [
                    format_time(flow.time, o.time_format),
                    *([flow.node_name] if o.node_name else []),
                    src,
                    dst,
                    flow_type(flow),
                    verdict_text(flow, o.policy_names),
                    summary_text(flow),
                ]
            )
            text = ""
        elif o.output is Output.DICT:
            text = (DICT_SEPARATOR + "\n" if self._line else "") + _dict_block(flow, o)
        elif o.output in (Output.JSON, Output.JSONPB):
            text = to_json_line(flow) + "\n"
        else:
            text = compact_line(flow, o) + "\n"
        self._line += 1
        return text

    def flush(self) -> str:
        """What is still buffered: the aligned table (nothing for the other formats)."""
        rows, self._rows = self._rows, []
        return tabwrite(rows) if rows else ""


def render(flows: Iterable[Flow], options: PrinterOptions = PrinterOptions()) -> str:
    """All of ``flows`` in one format, as ``hubble observe`` prints them."""
    printer = Printer(options)
    return "".join(printer.write(f) for f in flows) + printer.flush()
