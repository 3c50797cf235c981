"""``cmesh hubble``: observe stored flows as ``hubble observe`` does (ref §4.4, §4.5).

Filter flags are order-sensitive (``--not`` applies to the next one), which click's per-option
value lists cannot express, so :class:`ObserveCommand` scans the raw arguments for them before
click parses the same arguments normally (click still validates them and writes ``--help``).
The scan only needs to know, per option string, whether it takes a value, which it reads from
the command's own parameters.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import click

from cmesh.cli.options import State, context_option, pass_state
from cmesh.errors import InvalidArgument
from cmesh.hubble import (
    TIME_FORMATS,
    FlowStore,
    Output,
    Printer,
    PrinterOptions,
    build_request,
    parse_filters,
)

_FILTER_FLAGS = "cmesh.hubble.filter_flags"

# (option strings, help, takes a value).  Names are Hubble's; help abridged from its own.
_FILTERS: tuple[tuple[tuple[str, ...], str, bool], ...] = (
    (("--not",), "Reverse the next filter: it goes to the blacklist.", False),
    (("--uuid",), "Only the flow with this unique identifier.", True),
    (("--verdict",), "Verdict: FORWARDED, DROPPED, AUDIT, REDIRECTED, ERROR, TRACED, ...", True),
    (("--drop-reason-desc",), "Drop reason, e.g. POLICY_DENIED.", True),
    (("-t", "--type"), "Event type TYPE[:SUBTYPE], e.g. drop, trace:to-endpoint, l7.", True),
    (("--traffic-direction",), "ingress or egress.", True),
    (("--protocol",), "tcp, udp, sctp, icmp, icmpv4, icmpv6, dns, http, kafka.", True),
    (("--tcp-flags",), "TCP flags the flow must have, e.g. syn,ack.", True),
    (("--http-status",), "HTTP status code or prefix: 404, 4+, 40+.", True),
    (("--http-method",), "HTTP method, e.g. get.", True),
    (("--http-path",), "Regex on the HTTP path.", True),
    (("--http-url",), "Regex on the HTTP URL.", True),
    (("--http-header",), "HTTP header key:value.", True),
    (("--node-name",), "Node name pattern, e.g. k8s* or cluster-1/*.", True),
    (("--node-label",), "Label selector on the node labels.", True),
    (("--ip-version",), "v4, v6 or none.", True),
    (("-4", "--ipv4"), "Only IPv4 flows.", False),
    (("-6", "--ipv6"), "Only IPv6 flows.", False),
    (("--snat-ip",), "SNAT'ed source IP or CIDR.", True),
    (("--encrypted",), "Only encrypted flows.", False),
    (("--unencrypted",), "Only unencrypted flows.", False),
    (("--interface",), "Network interface name.", True),
    (("--reply",), "Only replies (an unknown direction is no reply on drops).", False),
    (("--not-reply",), "Only flows that are not replies.", False),
    (("-n", "--namespace"), "Namespace of source or destination.", True),
    (("--from-namespace",), "Namespace of the source.", True),
    (("--to-namespace",), "Namespace of the destination.", True),
    (("-A", "--all-namespaces"), "Any namespace.", False),
    (("--from-all-namespaces",), "Source in any namespace.", False),
    (("--to-all-namespaces",), "Destination in any namespace.", False),
)
for _base, _what in (
    ("label", "label selector, e.g. k8s:app=web or reserved:world"),
    ("pod", "[namespace/]pod-name-prefix"),
    ("service", "[namespace/]service-name-prefix"),
    ("ip", "IP or CIDR"),
    ("fqdn", "DNS name pattern, e.g. *.cilium.io"),
    ("identity", "security identity: a number or a reserved name"),
    ("port", "L4 port"),
    ("workload", "[kind/]name of the workload"),
    ("cluster", "cluster name"),
):
    _short = ("-l",) if _base == "label" else ()
    _FILTERS += (
        ((*_short, f"--{_base}"), f"Source or destination {_what}.", True),
        ((f"--from-{_base}",), f"Source {_what}.", True),
        ((f"--to-{_base}",), f"Destination {_what}.", True),
    )


def _filter_options(f: Callable[..., Any]) -> Callable[..., Any]:
    for decls, help_text, takes_value in reversed(_FILTERS):
        extra: dict[str, Any] = {"multiple": True} if takes_value else {"count": True}
        f = click.option(*decls, expose_value=False, help=help_text, **extra)(f)
    return f


_FILTER_STRINGS = frozenset(s for decls, _, _ in _FILTERS for s in decls)


def scan_filter_flags(command: click.Command, args: Iterable[str]) -> list[tuple[str, str | None]]:
    """The filter flags of ``args`` in order, as ``(option string, value or None)``."""
    takes: dict[str, bool] = {}
    for param in command.params:
        if isinstance(param, click.Option):
            for opt in (*param.opts, *param.secondary_opts):
                takes[opt] = not (param.is_flag or param.count)
    found: list[tuple[str, str | None]] = []
    tokens = list(args)
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        i += 1
        if tok == "--":
            break
        if tok.startswith("--"):
            name, eq, inline = tok.partition("=")
            if name not in takes:
                continue
            value: str | None = None
            if eq:
                value = inline
            elif takes[name]:
                value = tokens[i] if i < len(tokens) else None
                i += 1
            if name in _FILTER_STRINGS:
                found.append((name, value))
        elif tok.startswith("-") and len(tok) > 1:
            for pos in range(1, len(tok)):
                opt = "-" + tok[pos]
                if opt not in takes:
                    break
                if takes[opt]:
                    value = tok[pos + 1 :] or (tokens[i] if i < len(tokens) else None)
                    i += 0 if tok[pos + 1 :] else 1
                    if opt in _FILTER_STRINGS:
                        found.append((opt, value))
                    break
                if opt in _FILTER_STRINGS:
                    found.append((opt, None))
    return found


class ObserveCommand(click.Command):
    """Records the filter flags in command-line order before click parses the arguments."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[_FILTER_FLAGS] = scan_filter_flags(self, args)
        return super().parse_args(ctx, args)


@click.group()
def hubble() -> None:
    """Observe flows the way Hubble shows them."""


@hubble.command(cls=ObserveCommand)
@context_option
@click.option("--all-clusters", is_flag=True, help="Flows of every cluster, merged by time.")
@click.option(
    "--last", type=click.IntRange(min=0), default=0, help="The last N flows (default 20)."
)
@click.option("--first", type=click.IntRange(min=0), default=0, help="The first N flows.")
@click.option("--all", "all_flows", is_flag=True, help="Every stored flow.")
@click.option("--since", metavar="TIME", help="Flows since a duration ago (3s, 1h43m) or a time.")
@click.option("--until", metavar="TIME", help="Flows until a duration ago or a time.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new flows.")
@click.option(
    "-o",
    "--output",
    type=click.Choice(["compact", "dict", "table", "tab", "json", "jsonpb"]),
    default="compact",
    show_default=True,
    help="Output format.",
)
@click.option("--print-node-name", is_flag=True, help="Print the node name.")
@click.option("--print-policy-names", is_flag=True, help="Print the deciding policies.")
@click.option("--numeric", is_flag=True, help="Print IPs instead of pod, service and DNS names.")
@click.option("--ip-translation/--no-ip-translation", default=True, help="Translate IPs to names.")
@click.option(
    "--time-format",
    type=click.Choice(TIME_FORMATS, case_sensitive=False),
    default="StampMilli",
    show_default=True,
    help="Time layout.",
)
@click.option("--follow-timeout", type=float, default=None, hidden=True)
@_filter_options
@pass_state
def observe(
    state: State,
    all_clusters: bool,
    last: int,
    first: int,
    all_flows: bool,
    since: str | None,
    until: str | None,
    follow: bool,
    output: str,
    print_node_name: bool,
    print_policy_names: bool,
    numeric: bool,
    ip_translation: bool,
    time_format: str,
    follow_timeout: float | None,
) -> None:
    """Show stored flows, filtered like `hubble observe` (see `--help` for the filters)."""
    ctx = click.get_current_context()
    whitelist, blacklist = parse_filters(ctx.meta.get(_FILTER_FLAGS, []))
    fmt = Output.TABLE if output == "tab" else Output(output)
    if fmt is Output.TABLE and follow:
        raise InvalidArgument(
            "table output format is not compatible with follow mode",
            hint="drop --follow, or follow with -o compact, dict or json",
        )
    if all_clusters and state.context:
        raise InvalidArgument(
            "--context and --all-clusters cannot be combined", hint="give one of them"
        )
    clusters = state.cluster_names(all_clusters)
    request = build_request(
        now=time.time_ns(),
        last=last,
        first=first,
        all_flows=all_flows,
        follow=follow,
        since=since,
        until=until,
        whitelist=whitelist,
        blacklist=blacklist,
    )
    store = FlowStore(state.home.store)
    printer = Printer(
        PrinterOptions(
            fmt,
            time_format,
            print_node_name,
            print_policy_names,
            ip_translation and not numeric,
        )
    )
    if follow:
        flows = store.follow(clusters, request, timeout=follow_timeout)
    else:
        flows = iter(store.get_flows(clusters, request))
    try:
        for flow in flows:
            text = printer.write(flow)
            if text:
                state.console.raw(text)
    except KeyboardInterrupt:  # Ctrl-C ends --follow quietly, as it ends hubble observe -f
        return
    tail = printer.flush()
    if tail:
        state.console.raw(tail)


@hubble.command()
@context_option
@click.option("--all-clusters", is_flag=True, help="Sum over every cluster.")
@pass_state
def status(state: State, all_clusters: bool) -> None:
    """Flow counters of the store, as `hubble status` prints them."""
    s = FlowStore(state.home.store).status(state.cluster_names(all_clusters))
    ratio = f" ({s.num_flows / s.max_flows * 100:.2f}%)" if s.max_flows else ""
    state.console.raw(f"Current/Max Flows: {s.num_flows:,}/{s.max_flows:,}{ratio}\nFlows/s: N/A\n")


@hubble.command()
@context_option
@click.option(
    "--relay/--no-relay",
    default=True,
    show_default=True,
    help="Deploy Hubble Relay (what hubble observe talks to).",
)
@click.option("--ui", is_flag=True, help="Also deploy the Hubble UI.")
@pass_state
def enable(state: State, relay: bool, ui: bool) -> None:
    """Enable Hubble Relay (and the UI) on a cluster, as `cilium hubble enable`."""
    cfg = state.home.cluster(state.context)
    extra = {**cfg.extra, "hubble_relay": relay, "hubble_ui": ui}
    state.home.save_cluster(cfg.with_options(extra=extra), create=False)
    state.console.print(
        f"✅ Hubble Relay {'enabled' if relay else 'disabled'}{' with the UI' if ui else ''} on {cfg.name}"
    )


@hubble.command()
@context_option
@pass_state
def disable(state: State) -> None:
    """Disable Hubble Relay and the UI on a cluster (flows are still recorded by the agents)."""
    cfg = state.home.cluster(state.context)
    extra = {**cfg.extra, "hubble_relay": False, "hubble_ui": False}
    state.home.save_cluster(cfg.with_options(extra=extra), create=False)
    state.console.print(f"✅ Hubble Relay disabled on {cfg.name}")
