"""``cmesh exec``, ``cmesh run`` and ``cmesh dns``: traffic the way the guide sends it."""

from __future__ import annotations

import ipaddress
import json
import sys
from typing import TYPE_CHECKING

import click

from cmesh.cli.options import State, context_option, output_option, pass_state
from cmesh.cli.render import table
from cmesh.errors import InvalidArgument

if TYPE_CHECKING:
    from cmesh.datapath.tools import ToolResult

TOOLS_HELP = "curl, dig, nslookup, nc, ping"


def _run_tool(state: State, cluster: str, pod: str, command: tuple[str, ...]) -> ToolResult:
    """Run the tool of ``command`` (after an optional ``--``) in ``pod``, as ``kubectl exec``."""
    from cmesh.datapath.session import exec_tool
    from cmesh.datapath.tools import UsageError

    argv = list(command[1:] if command[:1] == ("--",) else command)
    try:
        return exec_tool(state.home, cluster, pod, argv)
    except UsageError as exc:
        raise InvalidArgument(
            str(exc), where=f"{cluster}/{pod}", hint=f"the simulated pods have {TOOLS_HELP}"
        ) from None


def _emit(result: ToolResult) -> None:
    """Print the tool's output as it would, and exit with its exit code."""
    if result.stdout:
        sys.stdout.write(result.stdout)
        sys.stdout.flush()
    if result.stderr:
        sys.stderr.write(result.stderr)
        sys.stderr.flush()
    if result.exit_code:
        raise SystemExit(result.exit_code)


@click.command(context_settings={"ignore_unknown_options": True})
@context_option
@click.argument("pod", metavar="NS/POD")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED, metavar="-- CMD…")
@pass_state
def exec_(state: State, pod: str, command: tuple[str, ...]) -> None:
    """Run curl, dig, nslookup, nc or ping from a pod, through the simulated datapath."""
    _emit(_run_tool(state, state.home.cluster(state.context).name, pod, command))


exec_.name = "exec"


@click.command(context_settings={"ignore_unknown_options": True})
@context_option
@click.argument("name")
@click.option(
    "--image", default="nicolaka/netshoot", show_default=True, help="Image (recorded, not pulled)."
)
@click.option(
    "-l",
    "--labels",
    "labels",
    multiple=True,
    metavar="K=V",
    help="Pod labels (repeatable or comma-separated).",
)
@click.option("-n", "--namespace", default="default", show_default=True)
@click.option("--rm/--keep", default=True, help="Delete the pod afterwards (as kubectl run --rm).")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED, metavar="-- CMD…")
@pass_state
def run(
    state: State,
    name: str,
    image: str,
    labels: tuple[str, ...],
    namespace: str,
    rm: bool,
    command: tuple[str, ...],
) -> None:
    """Start a short-lived debug pod (as `kubectl run --rm -it`) and run CMD from it."""
    import yaml

    from cmesh.datapath.load import warm
    from cmesh.model import load_text
    from cmesh.registry import ClusterRegistry, check

    lbls = {"run": name}
    for item in labels:
        for kv in item.split(","):
            k, sep, v = kv.partition("=")
            if not sep:
                raise InvalidArgument(
                    f"-l {kv!r}: expected KEY=VALUE", hint="e.g. -l app=frontend,tier=web"
                )
            lbls[k.strip()] = v.strip()
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": lbls},
        "spec": {"restartPolicy": "Never", "containers": [{"name": name, "image": image}]},
    }
    resources, diags = load_text(yaml.safe_dump(pod), f"<run {name}>")
    check(diags)
    cfg = state.home.cluster(state.context)
    reg = ClusterRegistry(state.home.store, cfg)
    if ("Pod", namespace, name) in reg.objects():
        raise InvalidArgument(
            f'pods "{name}" already exists', hint="choose another name or delete it"
        )
    reg.apply(resources)
    warm(state.home, cfg)
    try:
        result = _run_tool(state, cfg.name, f"{namespace}/{name}", command)
    finally:
        if rm:
            reg.delete(resources)
            warm(state.home, cfg)
    if rm:
        result.stderr += f'pod "{name}" deleted\n'
    _emit(result)


@click.group()
def dns() -> None:
    """The hosts table: names outside the mesh (world peers)."""


@dns.command("add")
@click.argument("name")
@click.argument("ips", nargs=-1, required=True)
@pass_state
def dns_add(state: State, name: str, ips: tuple[str, ...]) -> None:
    """Make NAME resolve to IP… for every pod (an outside name)."""
    from cmesh.datapath.load import HOSTS_PREFIX

    for ip in ips:
        try:
            ipaddress.IPv4Address(ip)
        except ValueError:
            raise InvalidArgument(
                f"dns add {name}: {ip!r} is not an IPv4 address",
                hint="give the addresses NAME resolves to, e.g. cmesh dns add example.com 93.184.216.34",
            ) from None
    clean = name.rstrip(".").lower()
    if clean.endswith(".cluster.local"):
        raise InvalidArgument(
            f"{name} is inside the cluster domain",
            hint="cluster names come from Services; add outside names only",
        )
    state.home.store.put(HOSTS_PREFIX + clean, json.dumps(sorted(set(ips))).encode())
    state.console.print(f"{clean} -> {', '.join(sorted(set(ips)))}")


@dns.command("remove")
@click.argument("name")
@pass_state
def dns_remove(state: State, name: str) -> None:
    """Forget an outside name."""
    from cmesh.datapath.load import HOSTS_PREFIX

    state.home.store.delete(HOSTS_PREFIX + name.rstrip(".").lower())


@dns.command("list")
@output_option("table", "json", default="table")
@pass_state
def dns_list(state: State, output: str) -> None:
    """List outside names and their addresses."""
    from cmesh.datapath.load import load_hosts

    hosts = load_hosts(state.home.store)
    if output == "json":
        state.console.raw(json.dumps({k: list(v) for k, v in sorted(hosts.items())}, indent=2))
        return
    state.console.print(
        table(("NAME", "ADDRESSES"), [(k, ", ".join(v)) for k, v in sorted(hosts.items())])
    )


@click.command()
@context_option
@click.option(
    "--alerts",
    "rules",
    type=click.Path(exists=True, dir_okay=False),
    help="Evaluate the alert rules of a Prometheus rule file against the cluster's flow history.",
)
@pass_state
def metrics(state: State, rules: str | None) -> None:
    """Print the cluster's Prometheus exposition (as the agent serves on /metrics)."""
    from cmesh.cli.metricsfmt import evaluate_rules, exposition

    cfg = state.home.cluster(state.context)
    if rules:
        state.console.print(evaluate_rules(state.home, cfg, rules))
        return
    sys.stdout.write(exposition(state.home, cfg).decode())
