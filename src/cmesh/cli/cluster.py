"""``cmesh install``, ``uninstall`` and ``status``: clusters as ``cilium install`` makes them."""

from __future__ import annotations

from collections import Counter
from typing import Any

import click

from cmesh.cli.options import State, context_option, output_option, pass_state
from cmesh.cli.render import render_data
from cmesh.cluster import ClusterConfig, Ipam, PolicyEnforcement
from cmesh.errors import InvalidArgument
from cmesh.registry import ClusterRegistry
from cmesh.registry import install as do_install

#: ``--set`` keys cmesh understands, with the ClusterConfig field each one sets.
HELM_KEYS = {
    "cluster.name": "name",
    "cluster.id": "id",
    "clustermesh.maxConnectedClusters": "max_connected_clusters",
    "ipam.mode": "ipam",
    "ipv4NativeRoutingCIDR": None,
    "ipam.operator.clusterPoolIPv4PodCIDRList": "pod_cidr",
    "policyEnforcementMode": "policy_enforcement",
    "policyAuditMode": "policy_audit_mode",
    "clustermesh.policyDefaultLocalCluster": "policy_default_local_cluster",
}


def parse_sets(values: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in values:
        key, sep, val = v.partition("=")
        if not sep:
            raise InvalidArgument(
                f"--set {v!r}: expected KEY=VALUE", hint="e.g. --set cluster.id=1"
            )
        if key not in HELM_KEYS:
            raise InvalidArgument(
                f"--set {key}: cmesh does not model this Helm value",
                hint="understood: " + ", ".join(sorted(HELM_KEYS)),
            )
        out[key] = val.strip("{}[]")
    return out


def _bool(text: str, what: str) -> bool:
    low = text.lower()
    if low in ("true", "1", "yes"):
        return True
    if low in ("false", "0", "no"):
        return False
    raise InvalidArgument(f"{what}: expected true or false, got {text!r}")


def _int(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InvalidArgument(f"{what}: expected an integer, got {text!r}") from None


@click.command()
@click.option(
    "--context",
    "context_",
    metavar="NAME",
    help="Context name for the new cluster (default: the cluster name).",
)
@click.option("--cluster-name", metavar="NAME", help="Cluster name (also --set cluster.name=NAME).")
@click.option(
    "--cluster-id", metavar="N", help="Cluster id, 1-255 to join a mesh (also --set cluster.id=N)."
)
@click.option(
    "--pod-cidr", metavar="CIDR", help="Cluster pod CIDR (default 10.<id>.0.0/16 if free)."
)
@click.option(
    "--service-cidr", metavar="CIDR", help="Service ClusterIP range (default 10.96.0.0/16)."
)
@click.option("--ipam", type=click.Choice([m.value for m in Ipam]), default=None, help="IPAM mode.")
@click.option(
    "--nodes",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="Default nodes the cluster gets when manifests bring none.",
)
@click.option(
    "--set",
    "--helm-set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Helm-style values, e.g. cluster.name=c1, cluster.id=1.",
)
@pass_state
def install(
    state: State,
    context_: str | None,
    cluster_name: str | None,
    cluster_id: str | None,
    pod_cidr: str | None,
    service_cidr: str | None,
    ipam: str | None,
    nodes: int,
    sets: tuple[str, ...],
) -> None:
    """Create a cluster (as `cilium install` into a fresh Kubernetes cluster)."""
    helm = parse_sets(sets)
    for flag, key, value in (
        ("--cluster-name", "cluster.name", cluster_name),
        ("--cluster-id", "cluster.id", cluster_id),
        ("--ipam", "ipam.mode", ipam),
        ("--pod-cidr", "ipam.operator.clusterPoolIPv4PodCIDRList", pod_cidr),
    ):
        if value is not None and key in helm and helm[key] != str(value):
            raise InvalidArgument(
                f"{flag} {value} conflicts with --set {key}={helm[key]}", hint="give the value once"
            )
    name = cluster_name or helm.get("cluster.name") or "default"
    cid = _int(
        str(cluster_id if cluster_id is not None else helm.get("cluster.id", "0")), "cluster id"
    )
    max_cc = _int(
        helm.get("clustermesh.maxConnectedClusters", "255"), "clustermesh.maxConnectedClusters"
    )
    home = state.home
    context = context_ or state.context or name
    default_pod, node_cidr = home.new_cluster_defaults(cid)
    cfg = ClusterConfig(
        context=context,
        name=name,
        id=cid,
        pod_cidr=pod_cidr or helm.get("ipam.operator.clusterPoolIPv4PodCIDRList") or default_pod,
        service_cidr=service_cidr or ClusterConfig.__dataclass_fields__["service_cidr"].default,
        node_cidr=node_cidr,
        ipam=Ipam(ipam or helm.get("ipam.mode") or Ipam.CLUSTER_POOL.value),
        max_connected_clusters=max_cc,
        nodes=nodes,
        policy_enforcement=PolicyEnforcement(helm.get("policyEnforcementMode", "default")),
        policy_audit_mode=_bool(helm.get("policyAuditMode", "false"), "policyAuditMode"),
        policy_default_local_cluster=_bool(
            helm.get("clustermesh.policyDefaultLocalCluster", "true"),
            "clustermesh.policyDefaultLocalCluster",
        ),
    )
    do_install(home, cfg)
    if not home.settings().get("current-context"):
        home.save_settings(**{"current-context": context})
    c = state.console
    c.print("🔮 Auto-detected Kubernetes kind: cmesh (simulated)")
    c.print(f"ℹ️  Cluster name: {cfg.name}, id: {cfg.id}, context: {cfg.context}")
    c.print(f"ℹ️  Pod CIDR {cfg.pod_cidr}, service CIDR {cfg.service_cidr}, IPAM {cfg.ipam.value}")
    if cfg.id == 0:
        c.print("ℹ️  Cluster id 0: a standalone cluster that cannot join a mesh (ref §3.2)")
    c.print(
        f"✅ Cilium was successfully installed! Run 'cmesh status --context {cfg.context}' to view installation health"
    )


@click.command()
@context_option
@pass_state
def uninstall(state: State) -> None:
    """Remove a cluster and everything in it."""
    cfg = state.home.remove_cluster(state.home.cluster(state.context).context)
    state.console.print(f"✅ Cluster {cfg.name} (context {cfg.context}) was removed")


def status_data(state: State) -> dict[str, Any]:
    cfg = state.home.cluster(state.context)
    reg = ClusterRegistry(state.home.store, cfg)
    objs = reg.objects()
    counts = Counter(k[0] for k in objs)
    return {
        "cluster": {"name": cfg.name, "id": cfg.id, "context": cfg.context},
        "config": cfg.to_dict(),
        "counts": {
            "nodes": counts["Node"],
            "namespaces": counts["Namespace"],
            "pods": counts["Pod"],
            "services": counts["Service"],
            "networkpolicies": counts["NetworkPolicy"],
            "ciliumnetworkpolicies": counts["CiliumNetworkPolicy"],
            "ciliumclusterwidenetworkpolicies": counts["CiliumClusterwideNetworkPolicy"],
            "identities": counts["CiliumIdentity"],
        },
        "kvstore": state.home.store_url,
    }


LOGO = [
    "    /¯¯\\",
    " /¯¯\\__/¯¯\\",
    " \\__/¯¯\\__/",
    " /¯¯\\__/¯¯\\",
    " \\__/¯¯\\__/",
    "    \\__/",
]


@click.command()
@context_option
@output_option("table", "json", "yaml")
@pass_state
def status(state: State, output: str) -> None:
    """Show a cluster's configuration and counts (as `cilium status`)."""
    data = status_data(state)
    text = render_data(data, output)
    if text is not None:
        state.console.raw(text)
        return
    cfg, n = data["config"], data["counts"]
    extra = cfg.get("extra") or {}
    summary = [
        ("Cilium", "OK"),
        ("Operator", "OK"),
        ("Envoy DaemonSet", "OK"),
        ("Hubble Relay", "OK" if extra.get("hubble_relay") else "disabled"),
        ("ClusterMesh", "OK" if cfg.get("clustermesh_enabled") else "disabled"),
        ("", ""),
    ]
    out = []
    for logo, (k, v) in zip(LOGO, summary, strict=True):
        out.append(f"{logo:<15}{(k + ':') if k else '':<20}{v}".rstrip())
    out.append("")
    policies = (
        n["networkpolicies"] + n["ciliumnetworkpolicies"] + n["ciliumclusterwidenetworkpolicies"]
    )
    rows = [
        ("Cluster", f"{cfg['name']} (id {cfg['id']}), context {cfg['context']}"),
        ("Pod CIDR", f"{cfg['pod_cidr']} (IPAM {cfg['ipam']})"),
        ("Service CIDR", cfg["service_cidr"]),
        (
            "Policy enforcement",
            cfg["policy_enforcement"] + (", audit mode" if cfg["policy_audit_mode"] else ""),
        ),
        ("Default local cluster", "enabled" if cfg["policy_default_local_cluster"] else "disabled"),
        ("Nodes", str(n["nodes"])),
        ("Cluster Pods", f"{n['pods']}/{n['pods']} managed by Cilium"),
        ("Services", str(n["services"])),
        (
            "Policies",
            f"{policies} (CNP {n['ciliumnetworkpolicies']}, CCNP {n['ciliumclusterwidenetworkpolicies']}, KNP {n['networkpolicies']})",
        ),
        ("Identities", str(n["identities"])),
        ("KVStore", data["kvstore"]),
    ]
    out += [f"{k + ':':<23}{v}" for k, v in rows]
    state.console.print("\n".join(out))
