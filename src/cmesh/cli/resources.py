"""``cmesh apply``, ``delete`` and ``get``: Kubernetes resources, kubectl-style."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from cmesh.cli.options import State, context_option, output_option, pass_state
from cmesh.cli.render import render_objects
from cmesh.cluster import IDENTITY_KIND, ObjKey, identity_labels
from cmesh.errors import Diagnostic, InvalidArgument, NotFound
from cmesh.labels import Labels, parse_selector
from cmesh.model import KINDS, Resource, UnknownFields, kind_for, load_text
from cmesh.policy import validate_all
from cmesh.registry import ClusterRegistry, check, read_sources


def kubectl_name(kind: str, name: str) -> str:
    """``deployment.apps/payment``, ``service/kube-dns``, ``ciliumnetworkpolicy.cilium.io/x``."""
    info = KINDS.get(kind)
    group = info.api_version.rpartition("/")[0] if info else ""
    return f"{kind.lower()}{'.' + group if group else ''}/{name}"


def load_paths(
    paths: Sequence[str], namespace: str, unknown: UnknownFields, recursive: bool = True
) -> tuple[list[Resource], list[Diagnostic]]:
    resources: list[Resource] = []
    diags: list[Diagnostic] = []
    for name, text in read_sources(paths, recursive=recursive):
        res, found = load_text(text, name, namespace=namespace, unknown=unknown)
        resources.extend(res)
        diags.extend(found)
    return resources, diags


_VALIDATE = {
    "strict": "error",
    "true": "error",
    "warn": "warn",
    "ignore": "ignore",
    "false": "ignore",
}


def _common(f: Any) -> Any:
    f = click.option(
        "-f",
        "--filename",
        "paths",
        multiple=True,
        required=True,
        metavar="PATH",
        help="File, directory or - (stdin); repeatable.",
    )(f)
    f = click.option(
        "-n",
        "--namespace",
        default="",
        metavar="NS",
        help="Namespace for objects without one (default: default).",
    )(f)
    f = click.option(
        "-R", "--recursive/--no-recursive", default=True, help="Walk directories recursively."
    )(f)
    f = click.option(
        "--dry-run",
        type=click.Choice(["none", "client", "server"]),
        default="none",
        help="Show what would change without changing anything.",
    )(f)
    return context_option(f)


@click.command()
@_common
@click.option(
    "--validate",
    "validate_",
    type=click.Choice(sorted(_VALIDATE)),
    default="strict",
    show_default=True,
    help="Unknown fields in policies: strict (error), warn, or ignore.",
)
@pass_state
def apply(
    state: State,
    paths: tuple[str, ...],
    namespace: str,
    recursive: bool,
    dry_run: str,
    validate_: str,
) -> None:
    """Apply manifests to a cluster, all or nothing."""
    resources, diags = load_paths(paths, namespace, _VALIDATE[validate_], recursive)  # type: ignore[arg-type]
    diags += validate_all(resources)
    warnings = check(diags)
    state.console.diagnostics(warnings)
    cfg = state.home.cluster(state.context)
    change = ClusterRegistry(state.home.store, cfg).apply(resources, dry_run=dry_run != "none")
    state.console.diagnostics(change.warnings)
    if change.revision:
        from cmesh.datapath.load import warm
        from cmesh.policy.conflicts import conflict_diagnostics

        # export to the mesh and compile now, so the next trace starts fast
        view = warm(state.home, cfg)
        state.console.diagnostics(conflict_diagnostics(view))
    suffix = " (dry run)" if dry_run != "none" else ""
    verbs = (
        {k: "created" for k in change.created}
        | {k: "configured" for k in change.configured}
        | {k: "unchanged" for k in change.unchanged}
    )
    for r in resources:
        if r.key in verbs:
            state.console.print(f"{kubectl_name(r.kind, r.name)} {verbs.pop(r.key)}{suffix}")


@click.command()
@_common
@click.option(
    "--ignore-not-found", is_flag=True, help="Treat objects that do not exist as deleted."
)
@pass_state
def delete(
    state: State,
    paths: tuple[str, ...],
    namespace: str,
    recursive: bool,
    dry_run: str,
    ignore_not_found: bool,
) -> None:
    """Delete the objects named in manifests, all or nothing."""
    resources, diags = load_paths(paths, namespace, "ignore", recursive)
    state.console.diagnostics(check(diags))
    cfg = state.home.cluster(state.context)
    reg = ClusterRegistry(state.home.store, cfg)
    if not ignore_not_found:
        current = reg.objects()
        missing = [r for r in resources if r.key not in current]
        if missing:
            raise NotFound(
                "; ".join(
                    f"{kubectl_name(r.kind, r.name)} not found in {r.namespace or 'cluster'}"
                    for r in missing
                )
                + "; nothing was deleted",
                hint="use --ignore-not-found to delete the others anyway",
            )
    change = reg.delete(resources, dry_run=dry_run != "none")
    if change.revision:
        from cmesh.datapath.load import warm

        warm(state.home, cfg)
    for k in change.deleted:
        state.console.print(
            f"{kubectl_name(k[0], k[2])} deleted{' (dry run)' if dry_run != 'none' else ''}"
        )


IDENTITY_ALIASES = ("identities", "identity", "ciliumidentities", "ciliumidentity", "ciliumid")


@click.command()
@click.argument("kind")
@click.argument("names", nargs=-1)
@click.option("-n", "--namespace", default="", metavar="NS", help="Namespace (default: default).")
@click.option("-A", "--all-namespaces", is_flag=True, help="All namespaces.")
@click.option(
    "-l", "--selector", default="", metavar="SELECTOR", help="Label selector, e.g. app=payment."
)
@output_option("table", "wide", "json", "yaml", "name")
@context_option
@pass_state
def get(
    state: State,
    kind: str,
    names: tuple[str, ...],
    namespace: str,
    all_namespaces: bool,
    selector: str,
    output: str,
) -> None:
    """List resources: nodes, namespaces, pods, services, np, cnp, ccnp, identities, …"""
    if "/" in kind and not names:
        kind, _, one = kind.partition("/")
        names = (one,)
    cfg = state.home.cluster(state.context)
    objs = ClusterRegistry(state.home.store, cfg).objects()
    if kind.lower() in IDENTITY_ALIASES:
        _identities(state, objs, names, output)
        return
    info = kind_for(kind)
    if info is None:
        raise InvalidArgument(
            f'the server doesn\'t have a resource type "{kind}"',
            hint="known: " + ", ".join(sorted(i.plural for i in KINDS.values())) + ", identities",
        )
    ns = namespace or "default"
    sel = parse_selector(selector) if selector else None
    picked: list[dict[str, Any]] = []
    for (k, ons, name), obj in sorted(objs.items(), key=lambda kv: (kv[0][1], kv[0][2])):
        if k != info.kind:
            continue
        if info.namespaced and not all_namespaces and ons != ns:
            continue
        if names and name not in names:
            continue
        if sel is not None and not sel.matches(
            Labels.from_map((obj.get("metadata") or {}).get("labels") or {}, "k8s")
        ):
            continue
        picked.append(obj)
    if names:
        found = {(o.get("metadata") or {}).get("name") for o in picked}
        missing = [n for n in names if n not in found]
        if missing:
            raise NotFound(
                f'{info.plural} "{missing[0]}" not found'
                + (f' in namespace "{ns}"' if info.namespaced else "")
            )
    if not picked and output in ("table", "wide"):
        where = "" if not info.namespaced or all_namespaces else f" in {ns} namespace"
        state.console.info(f"No resources found{where}.")
        return
    text = render_objects(
        info.kind,
        info.plural,
        picked,
        output,
        all_namespaces=all_namespaces,
        namespaced=info.namespaced,
    )
    if info.kind == "Service" and output == "wide":
        text = _with_backends(state, cfg.name, picked, text)
    if output in ("json", "yaml"):
        state.console.raw(text)
    else:
        state.console.print(text)


def _identities(
    state: State, objs: dict[ObjKey, dict[str, Any]], names: tuple[str, ...], output: str
) -> None:
    from cmesh.cli.render import render_data, table

    rows = []
    data = []
    for (k, _ns, name), obj in sorted(
        objs.items(), key=lambda kv: int(kv[0][2]) if kv[0][0] == IDENTITY_KIND else 0
    ):
        if k != IDENTITY_KIND or (names and name not in names):
            continue
        labels = identity_labels(obj)
        data.append({"id": int(name), "labels": labels.sorted_strings()})
        rows.append((name, ns_of(labels), "\n".join(labels.sorted_strings())))
    text = render_data(data, output)
    if text is not None:
        state.console.raw(text)
        return
    if output == "name":
        state.console.print("\n".join(f"ciliumidentity.cilium.io/{r[0]}" for r in rows))
        return
    lines = [
        table(("ID", "NAMESPACE", "LABELS"), [(r[0], r[1], r[2].split("\n")[0]) for r in rows])
    ]
    # kubectl-like continuation lines for the remaining labels
    out: list[str] = []
    header, *body = lines[0].split("\n")
    out.append(header)
    col = header.index("LABELS")
    for line, r in zip(body, rows, strict=True):
        out.append(line)
        for extra in r[2].split("\n")[1:]:
            out.append(" " * col + extra)
    state.console.print("\n".join(out))


def ns_of(labels: Labels) -> str:
    lb = labels.get("io.kubernetes.pod.namespace")
    return lb.value if lb else ""


def _with_backends(state: State, cluster: str, services: list[dict[str, Any]], text: str) -> str:
    """``get svc -o wide``: add whether a service is global and its backends per cluster."""
    from cmesh.datapath import load_mesh

    view = load_mesh(state.home).view(cluster)
    lines = text.split("\n")
    width = max(len(x) for x in lines)
    out = [lines[0].ljust(width) + "   GLOBAL   BACKENDS"]
    for line, obj in zip(lines[1:], services, strict=True):
        m = obj.get("metadata") or {}
        lb = view.lb.get((m.get("namespace", ""), m.get("name", "")))
        if lb is None:
            out.append(line.ljust(width) + "   -        <none>")
            continue
        counts: dict[str, int] = {}
        for bes in lb.backends.values():
            for b in bes:
                counts[b.cluster] = counts.get(b.cluster, 0) + 1
        per_port = max(len(lb.ports), 1)
        desc = ", ".join(f"{c}: {n // per_port}" for c, n in sorted(counts.items())) or "<none>"
        flag = ("yes" + ("" if lb.shared else ",unshared")) if lb.global_ else "no"
        if lb.global_ and lb.affinity.value != "none":
            flag += f",{lb.affinity.value}"
        out.append(line.ljust(width) + f"   {flag:<6}   {desc}")
    return "\n".join(out)
