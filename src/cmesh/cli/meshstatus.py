"""The data and lines of ``clustermesh status`` (ref §3.6, cilium-cli ``clustermesh.go``)."""

from __future__ import annotations

from typing import Any


def status_data(mgr: Any, cfg: Any) -> dict[str, Any]:
    from cmesh.registry import ClusterRegistry

    inv = ClusterRegistry(mgr.store, cfg).inventory()
    nodes = sorted(inv.nodes.values(), key=lambda n: n.name)
    statuses = mgr.statuses(cfg.name)
    n = len(nodes)
    clusters = {}
    errors: dict[str, list[str]] = {}
    for name, st in sorted(statuses.items()):
        clusters[name] = {"configured": n, "connected": n if st.ready else 0, "ready": st.ready}
        if not st.ready:
            for node in nodes:
                errors.setdefault(node.name, []).append(
                    f"{node.name} is not connected to cluster {name}: {st.status}"
                )
    # every node of the simulation reaches the same clusters: min, avg and max are one number
    connected = sum(1 for st in statuses.values() if st.ready) if n else 0
    not_ready = n if any(not st.ready for st in statuses.values()) else 0
    ip = next(
        (x.ip for x in nodes if x.name.endswith("control-plane")), nodes[0].ip if nodes else ""
    )
    return {
        "access_information": {
            "service_type": cfg.clustermesh_service_type or None,
            "service_ips": [ip] if cfg.clustermesh_enabled and ip else [],
            "service_port": 2379 if cfg.clustermesh_service_type != "NodePort" else 32379,
            "cluster_id": cfg.id,
            "cluster_name": cfg.name,
            "kvstore": cfg.clustermesh_kvstore or "home",
        },
        "enabled": cfg.clustermesh_enabled,
        "connectivity": {
            "connected": {"min": connected, "avg": float(connected), "max": connected},
            "clusters": clusters,
            "total": n,
            "not_ready": not_ready,
            "errors": errors,
        },
        "kvstoremesh": {
            "enabled": True,
            "status": {
                name: {"configured": 1, "connected": 1 if st.ready else 0}
                for name, st in statuses.items()
            },
        },
        "remote_clusters": [
            {
                "name": st.name,
                "ready": st.ready,
                "connected": st.connected,
                "status": st.status,
                "num-failures": st.num_failures,
                "last-failure": st.last_failure or None,
                "config": st.config,
                "synced": st.synced,
            }
            for st in statuses.values()
        ],
    }


def render_status(d: dict[str, Any]) -> str:
    a = d["access_information"]
    c = d["connectivity"]
    if not d["enabled"]:
        return f"❌ ClusterMesh is not enabled on cluster {a['cluster_name']}\n   run `cmesh clustermesh enable --context {a['cluster_name']}`"
    lines = [
        f'✅ Service "clustermesh-apiserver" of type "{a["service_type"]}" found',
        "✅ Cluster access information is available:",
        *[f"  - {ip}:{a['service_port']}" for ip in a["service_ips"]],
        "✅ Deployment clustermesh-apiserver is ready",
        "ℹ️  KVStoreMesh is enabled",
        "",
    ]
    n, mm = c["total"], c["connected"]
    summary = f"[min:{mm['min']} / avg:{mm['avg']:.1f} / max:{mm['max']}]"
    if c["not_ready"]:
        lines.append(f"⚠️  {c['not_ready']}/{n} nodes are not connected to all clusters {summary}")
    else:
        lines.append(f"✅ All {n} nodes are connected to all clusters {summary}")
    ks = d["kvstoremesh"]["status"]
    kready = sum(v["connected"] for v in ks.values())
    lines.append(
        (
            "✅ All 1 KVStoreMesh replicas are connected to all clusters"
            if kready == len(ks)
            else "⚠️  1/1 KVStoreMesh replicas are not connected to all clusters"
        )
        + f" [min:{kready} / avg:{kready:.1f} / max:{kready}]"
    )
    lines.append("")
    if c["clusters"]:
        lines.append("🔌 Cluster Connections:")
        for name, x in c["clusters"].items():
            lines.append(
                f"  - {name}: {x['configured']}/{n} configured, {x['connected']}/{n} connected - KVStoreMesh: 1/1 configured, {1 if x['ready'] else 0}/1 connected"
            )
    else:
        lines.append("🔌 No cluster connected")
    errs = [e for es in c["errors"].values() for e in es]
    if errs:
        lines += ["", f"❌ {len(errs)} Errors:"]
        lines += [f"  ❌ {e}" for e in errs]
        lines.append("  💡 Run 'cmesh clustermesh status -o json' for failure counts and times")
    for r in d["remote_clusters"]:
        if r["num-failures"]:
            lines.append(
                f"  ℹ️  {r['name']}: {r['num-failures']} failure(s), last at {r['last-failure']}"
            )
    return "\n".join(lines)
