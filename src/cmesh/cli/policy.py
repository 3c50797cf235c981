"""``cmesh policy``: trace flows, show the rules in force, list selectors."""

from __future__ import annotations

import json
import sys

import click

from cmesh.cli.options import State, context_option, output_option, pass_state


@click.group()
def policy() -> None:
    """Explain policy decisions."""


@policy.command()
@click.option("--from", "src", metavar="SRC", help="NS/POD, CLUSTER/NS/POD or an IP.")
@click.option(
    "--to", "dst", metavar="DST", help="NS/POD, CLUSTER/NS/POD, an IP, svc:NS/NAME or fqdn:NAME."
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    help="Destination port (service port for svc:).",
)
@click.option(
    "--protocol",
    type=click.Choice(["TCP", "UDP", "SCTP", "ICMP"], case_sensitive=False),
    default="TCP",
    show_default=True,
)
@click.option("--http-method", default="", help="Also decide an HTTP request with this method.")
@click.option("--http-path", default="", help="HTTP path (with its query string).")
@click.option("--http-host", default="", help="HTTP Host header.")
@click.option(
    "--http-header",
    "http_headers",
    multiple=True,
    metavar="'K: V'",
    help="HTTP header (repeatable).",
)
@click.option(
    "--dns-name",
    default="",
    help="Decide a DNS query for this name (the destination is the DNS server).",
)
@click.option("--tls-sni", default="", help="TLS server name the client sends.")
@click.option(
    "--icmp-type",
    type=click.IntRange(0, 255),
    default=None,
    help="ICMP type (implies --protocol ICMP).",
)
@click.option(
    "--queries",
    type=click.File("r"),
    metavar="FILE.jsonl",
    help="One JSON query per line ('-' for stdin).",
)
@output_option("text", "json", "jsonl", default="text")
@context_option
@pass_state
def trace(
    state: State,
    src: str | None,
    dst: str | None,
    port: int,
    protocol: str,
    http_method: str,
    http_path: str,
    http_host: str,
    http_headers: tuple[str, ...],
    dns_name: str,
    tls_sni: str,
    icmp_type: int | None,
    queries: object,
    output: str,
) -> None:
    """Trace a flow through egress and ingress policy (and L7), and explain the verdict."""
    from cmesh.cli.tracefmt import trace_dict, trace_story
    from cmesh.datapath import load_mesh, parse_end
    from cmesh.datapath import trace as do_trace
    from cmesh.datapath.l7trace import L7Query
    from cmesh.datapath.tracer import trace_fqdn
    from cmesh.errors import InvalidArgument
    from cmesh.policy import Protocol

    mesh = load_mesh(state.home)
    context = state.home.cluster(state.context).name
    if queries is not None:
        from cmesh.cli.queries import run_queries

        run_queries(mesh, context, queries, sys.stdout)  # type: ignore[arg-type]
        return
    if not src or not dst:
        raise InvalidArgument(
            "give --from and --to (or --queries FILE)",
            hint="e.g. cmesh policy trace --from default/frontend --to svc:default/payment-service --port 80",
        )
    proto = Protocol.ICMP if icmp_type is not None else Protocol.parse(protocol)
    if icmp_type is not None:
        port = icmp_type
    headers = []
    for h in http_headers:
        k, sep, v = h.partition(":")
        if not sep:
            raise InvalidArgument(f"--http-header {h!r}: expected 'Name: value'")
        headers.append((k.strip(), v.strip()))
    l7 = L7Query(http_method, http_path, http_host, tuple(headers), dns_name, tls_sni)
    source = parse_end(mesh, src, context)
    if dst.startswith("fqdn:"):
        t = trace_fqdn(mesh, source, dst[5:], proto, port, l7=l7)
    else:
        t = do_trace(mesh, source, parse_end(mesh, dst, context), proto, port, l7=l7)
    if output == "text":
        state.console.print(trace_story(t))
    else:
        state.console.raw(json.dumps(trace_dict(t), indent=None if output == "jsonl" else 2))


@policy.command("get")
@click.argument("pod", required=False, metavar="[NS/POD]")
@output_option("text", "json", default="text")
@context_option
@pass_state
def get_(state: State, pod: str | None, output: str) -> None:
    """Show the rules in force for an endpoint (or every policy of the cluster)."""
    from cmesh.cli.policyshow import show_policies

    show_policies(state, pod, output)


@policy.command()
@output_option("text", "json", default="text")
@context_option
@pass_state
def selectors(state: State, output: str) -> None:
    """Each selector with the identities it selects and the rules using it."""
    from cmesh.cli.policyshow import show_selectors

    show_selectors(state, output)


@policy.command("list")
@click.option("--all-clusters", is_flag=True, help="Every cluster, and the pairs across them.")
@click.option(
    "--manifests",
    metavar="PATH",
    default="",
    help="A mesh file, or manifests applied over the home (default: the home as it is).",
)
@click.option("--pods", is_flag=True, help="Pod by pod instead of folding pods into workloads.")
@click.option(
    "--focus-workload",
    metavar="[CLUSTER/]NS/NAME",
    default="",
    help="Only connections from or to this workload (or pod, or non-workload peer).",
)
@click.option(
    "--explain",
    is_flag=True,
    help="Per pair, the deciding policies; also lists denied pairs a rule names, with the trace.",
)
@output_option("txt", "json", "csv", "md", "dot", default="txt")
@context_option
@pass_state
def list_(
    state: State,
    all_clusters: bool,
    manifests: str,
    pods: bool,
    focus_workload: str,
    explain: bool,
    output: str,
) -> None:
    """List every allowed connection between workloads and peers (sorted, streamed)."""
    from cmesh.analysis import Analyzer, connections, explain_pair
    from cmesh.cli.listfmt import render
    from cmesh.cli.meshsource import load, scope

    state.exit_fast = True  # reads and prints only
    lm = load(state, manifests)
    clusters = scope(state, lm, all_clusters)
    an = Analyzer(lm.mesh)
    rows = connections(
        lm.mesh,
        clusters,
        pods=pods,
        focus=focus_workload,
        denied_of_interest=explain,
        analyzer=an,
    )
    render(rows, output, sys.stdout, (lambda c: explain_pair(an, c)) if explain else None)
    sys.stdout.flush()


@policy.command("diff")
@click.argument("old", metavar="OLD")
@click.argument("new", metavar="NEW")
@output_option("txt", "md", "json", default="txt")
@context_option
@pass_state
def diff(state: State, old: str, new: str, output: str) -> None:
    """Connections added, removed and changed from OLD to NEW, grouped by policy change.

    OLD and NEW are each a mesh file (a full description of the clusters), manifests applied
    over the --context cluster of the home, or HOME (the home as it is).  Exits 0 when
    connectivity is the same and 1 when it changed, as diff does.
    """
    from cmesh.analysis.diff import semantic_diff
    from cmesh.cli.difffmt import render
    from cmesh.cli.meshsource import load

    state.exit_fast = True  # reads and prints only
    d = semantic_diff(load(state, old, fresh=True), load(state, new, fresh=True))
    state.console.raw(render(d, output))
    if d.changed:
        click.get_current_context().exit(1)


# -- from observed flows to enforced policy (issue 9) ------------------------------------------


@policy.command("generate")
@click.argument("flows", metavar="FLOWS")
@click.option("--all-clusters", is_flag=True, help="Policies for every cluster's workloads.")
@click.option(
    "--per",
    type=click.Choice(["workload", "namespace"]),
    default="workload",
    show_default=True,
    help="One policy per workload (identity) or per namespace.",
)
@click.option(
    "--l7", is_flag=True, help="HTTP rules from observed requests, DNS rules from queries."
)
@click.option("--enforce", is_flag=True, help="Leave out the audit annotation.")
@click.option("--include-dropped", is_flag=True, help="Also allow flows recorded as dropped.")
@click.option("-o", "--output-dir", metavar="DIR", help="Write DIR/<cluster>/<ns>-<name>.yaml.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@context_option
@pass_state
def generate(
    state: State,
    flows: str,
    all_clusters: bool,
    per: str,
    l7: bool,
    enforce: bool,
    include_dropped: bool,
    output_dir: str | None,
    fmt: str,
) -> None:
    """Least-privilege policies from recorded flows, verified by replay before writing."""
    from cmesh.cli.flowpolicy import generate_text
    from cmesh.generate import generate as run
    from cmesh.generate import render_yaml

    out = run(
        state.home,
        flows,
        clusters=state.cluster_names(all_clusters),
        per=per,
        l7=l7,
        enforce=enforce,
        include_dropped=include_dropped,
        out_dir=output_dir,
    )
    if output_dir is None and fmt == "text":
        state.console.raw(render_yaml(out.policies))
    if fmt == "json":
        state.console.raw(json.dumps(out.summary(), indent=2))
    elif output_dir is None:
        state.console.info(generate_text(out.summary(), False))
    else:
        state.console.print(generate_text(out.summary(), True))


@policy.command("audit-report")
@click.option("--since", metavar="D", help="Only flows since D (a duration like 1h, or a time).")
@click.option("--all-clusters", is_flag=True, help="Every cluster.")
@output_option("text", "json", default="text")
@context_option
@pass_state
def audit_report(state: State, since: str | None, all_clusters: bool, output: str) -> None:
    """AUDIT flows per audited policy: what enforcing it would drop right now."""
    from cmesh.cli.flowpolicy import audit_text
    from cmesh.generate import audit_report as report

    entries = report(state.home, state.cluster_names(all_clusters), since=since)
    if output == "json":
        state.console.raw(json.dumps([e.to_dict() for e in entries], indent=2))
    else:
        state.console.print(audit_text(entries))


@policy.command("promote")
@click.argument("names", nargs=-1, required=True, metavar="NAME...")
@click.option("--force", is_flag=True, help="Promote even when the audit report is not clean.")
@click.option("--since", metavar="D", help="Judge only AUDIT flows since D.")
@context_option
@pass_state
def promote(state: State, names: tuple[str, ...], force: bool, since: str | None) -> None:
    """Enforce audited policies (remove their audit annotation) when their report is clean."""
    from cmesh.generate import promote as run

    cluster = state.home.cluster(state.context).name
    for e in run(state.home, cluster, list(names), force=force, since=since):
        note = "" if e.clean else f" (forced: {e.flows} AUDIT flows)"
        state.console.print(f"{e.kind.lower()}.cilium.io/{e.name} promoted: enforced{note}")
