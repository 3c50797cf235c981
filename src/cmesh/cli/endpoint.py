"""``cmesh endpoint list|config``: a cluster's endpoints as ``cilium endpoint list`` shows them,
and the per-endpoint option Cilium has for policy, ``PolicyAuditMode`` (ref §2.12).

Endpoint configuration is agent state, so it lives with the cluster's agent options
(``ClusterConfig.audit_endpoints``); it names the pod (``namespace/pod``), and the numeric
endpoint ID of ``cilium endpoint list`` and Hubble's flows is accepted as well.
"""

from __future__ import annotations

import json
from typing import Any

import click

from cmesh.cli.options import State, context_option, output_option, pass_state
from cmesh.cli.render import table
from cmesh.errors import InvalidArgument, NotFound

#: ``cilium endpoint config`` option values (case-insensitive).
_ON = {"enabled", "enable", "true", "on"}
_OFF = {"disabled", "disable", "false", "off"}
OPTIONS = ("PolicyAuditMode",)


@click.group()
def endpoint() -> None:
    """Endpoints of a cluster, as its agent sees them (cilium endpoint …)."""


def _endpoints(state: State) -> tuple[Any, Any, list[Any]]:
    from cmesh.datapath import load_mesh
    from cmesh.datapath.observe import endpoint_id

    cfg = state.home.cluster(state.context)
    view = load_mesh(state.home).view(cfg.name)
    eps = sorted(view.endpoints.values(), key=lambda e: endpoint_id(e.cluster, e.namespace, e.name))
    return cfg, view, eps


def _enforcement(cfg: Any, view: Any, ep: Any) -> tuple[str, str]:
    from cmesh.policy import Direction

    sp = view.engine.selector_policy(ep.identity)
    audit = cfg.policy_audit_mode or f"{ep.namespace}/{ep.name}" in cfg.audit_endpoints
    on = "Disabled (Audit)" if audit else "Enabled"
    ing, eg = (
        on if view.engine.settings.default_deny(sp, d) else "Disabled"
        for d in (Direction.INGRESS, Direction.EGRESS)
    )
    return ing, eg


@endpoint.command("list")
@output_option("text", "json", default="text")
@context_option
@pass_state
def list_(state: State, output: str) -> None:
    """Every local endpoint: ID, policy enforcement per direction, identity, labels, IP."""
    from cmesh.datapath.observe import endpoint_id

    cfg, view, eps = _endpoints(state)
    rows, data = [], []
    for ep in eps:
        ing, eg = _enforcement(cfg, view, ep)
        eid = endpoint_id(ep.cluster, ep.namespace, ep.name)
        labels = ep.labels.sorted_strings()
        data.append(
            {
                "id": eid,
                "pod": f"{ep.namespace}/{ep.name}",
                "policy_ingress": ing,
                "policy_egress": eg,
                "identity": ep.identity,
                "labels": labels,
                "ipv4": ep.ip,
                "policy_audit_mode": f"{ep.namespace}/{ep.name}" in cfg.audit_endpoints,
            }
        )
        rows.append((str(eid), ing, eg, str(ep.identity), labels[0] if labels else "", ep.ip))
        rows += [("", "", "", "", lab, "") for lab in labels[1:]]
    if output == "json":
        state.console.raw(json.dumps(data, indent=2))
        return
    head = ("ENDPOINT", "POLICY (ingress)", "POLICY (egress)", "IDENTITY", "LABELS", "IPv4")
    state.console.print(table(head, rows))


@endpoint.command("config")
@click.argument("endpoint_ref", metavar="NS/POD|ID")
@click.argument("options", nargs=-1, metavar="[PolicyAuditMode=Enabled|Disabled]")
@context_option
@pass_state
def config(state: State, endpoint_ref: str, options: tuple[str, ...]) -> None:
    """Show an endpoint's options, or change them (as `cilium endpoint config`)."""
    from cmesh.datapath.observe import endpoint_id

    cfg, _view, eps = _endpoints(state)
    ep = next(
        (
            e
            for e in eps
            if endpoint_ref
            in (f"{e.namespace}/{e.name}", str(endpoint_id(e.cluster, e.namespace, e.name)))
            or (e.namespace == "default" and e.name == endpoint_ref)
        ),
        None,
    )
    if ep is None:
        raise NotFound(
            f'endpoint "{endpoint_ref}" not found in cluster {cfg.name}',
            hint="`cmesh endpoint list` shows the endpoint IDs; or name the pod as NS/POD",
        )
    key = f"{ep.namespace}/{ep.name}"
    audit = key in cfg.audit_endpoints
    for opt in options:
        name, sep, value = opt.partition("=")
        if not sep or name not in OPTIONS or value.lower() not in _ON | _OFF:
            raise InvalidArgument(
                f"invalid option {opt!r}",
                hint="endpoint options: PolicyAuditMode=Enabled or PolicyAuditMode=Disabled",
            )
        audit = value.lower() in _ON
    if options:
        new = tuple(sorted((set(cfg.audit_endpoints) - {key}) | ({key} if audit else set())))
        if new != cfg.audit_endpoints:
            state.home.save_cluster(cfg.with_options(audit_endpoints=new), create=False)
        eid = endpoint_id(ep.cluster, ep.namespace, ep.name)
        state.console.print(f"Endpoint {eid} ({key}) configuration updated successfully")
        return
    state.console.print(f"PolicyAuditMode   {'Enabled' if audit else 'Disabled'}")
