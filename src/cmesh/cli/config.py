"""``cmesh config``: contexts as kubectl has them, and per-cluster settings."""

from __future__ import annotations

import click

from cmesh.cli.options import State, context_option, pass_state
from cmesh.cli.render import table
from cmesh.cluster import PolicyEnforcement
from cmesh.errors import InvalidArgument


@click.group()
def config() -> None:
    """Contexts and cluster settings."""


@config.command("get-contexts")
@pass_state
def get_contexts(state: State) -> None:
    """List contexts (one per cluster)."""
    current = state.home.current_context()
    rows = [
        ("*" if c.context == current else "", c.context, c.name, str(c.id), c.pod_cidr)
        for c in sorted(state.home.clusters(), key=lambda c: c.context)
    ]
    state.console.print(table(("CURRENT", "NAME", "CLUSTER", "CLUSTER-ID", "POD-CIDR"), rows))


@config.command("current-context")
@pass_state
def current_context(state: State) -> None:
    """Print the current context."""
    cur = state.home.current_context()
    if not cur:
        raise InvalidArgument(
            "current-context is not set", hint="run `cmesh config use-context NAME`"
        )
    state.console.print(cur)


@config.command("use-context")
@click.argument("name")
@pass_state
def use_context(state: State, name: str) -> None:
    """Make NAME the current context."""
    state.home.cluster(name)  # must exist
    state.home.save_settings(**{"current-context": name})
    state.console.print(f'Switched to context "{name}".')


#: ``cmesh config set KEY VALUE`` keys: agent option name → (ClusterConfig field, parser).
SETTINGS = {
    "policy-enforcement": "policy_enforcement",
    "enable-policy": "policy_enforcement",
    "policy-default-local-cluster": "policy_default_local_cluster",
    "policy-audit-mode": "policy_audit_mode",
    "allow-localhost": "allow_localhost",
    "mutual-auth-trust-domain": "auth_trust_domain",
    "tofqdns-dns-reject-response-code": "dns_reject_response",
}


@config.command("set")
@click.argument("key", type=click.Choice(sorted(SETTINGS)))
@click.argument("value")
@context_option
@pass_state
def set_(state: State, key: str, value: str) -> None:
    """Set an agent option of a cluster (e.g. policy-enforcement always)."""
    cfg = state.home.cluster(state.context)
    field = SETTINGS[key]
    parsed: object
    if field == "policy_enforcement":
        try:
            parsed = PolicyEnforcement(value)
        except ValueError:
            raise InvalidArgument(
                f"{key}: expected default, always or never, got {value!r}"
            ) from None
    elif field == "allow_localhost":
        if value not in ("auto", "always", "policy"):
            raise InvalidArgument(f"{key}: expected auto, always or policy, got {value!r}")
        parsed = value
    elif field == "auth_trust_domain":
        parsed = value
    elif field == "dns_reject_response":
        mapping = {"refused": "REFUSED", "nameerror": "NXDOMAIN", "nxdomain": "NXDOMAIN"}
        if value.lower() not in mapping:
            raise InvalidArgument(f"{key}: expected refused or nameError, got {value!r}")
        parsed = mapping[value.lower()]
    else:
        low = value.lower()
        if low not in ("true", "false"):
            raise InvalidArgument(f"{key}: expected true or false, got {value!r}")
        parsed = low == "true"
    state.home.save_cluster(cfg.with_options(**{field: parsed}), create=False)
    state.console.print(f"{cfg.context}: {key} = {value}")


@config.command("view")
@context_option
@pass_state
def view(state: State) -> None:
    """Show a cluster's settings."""
    cfg = state.home.cluster(state.context)
    for k, v in cfg.to_dict().items():
        if k != "extra":
            state.console.print(f"{k}: {v}")
