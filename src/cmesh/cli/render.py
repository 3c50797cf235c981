"""The one renderer of ``-o table|wide|json|yaml|name`` for Kubernetes-shaped objects.

Commands hand it objects and a kind; they never branch on the format themselves.  Tables are
kubectl's: upper-case headers, columns padded with three spaces, no borders.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import yaml

Row = Sequence[str]
Obj = Mapping[str, Any]


def table(headers: Sequence[str], rows: Iterable[Row]) -> str:
    rows = [list(map(str, r)) for r in rows]
    widths = [len(h) for h in headers]
    for r in rows:
        for i, cell in enumerate(r):
            widths[i] = max(widths[i], len(cell))
    lines = []
    for r in [list(headers), *rows]:
        lines.append("   ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip())
    return "\n".join(lines)


def age(obj: Obj, now: datetime | None = None) -> str:
    ts = (obj.get("metadata") or {}).get("creationTimestamp")
    if not ts:
        return "<unknown>"
    try:
        created = datetime.strptime(str(ts), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return "<unknown>"
    secs = int(((now or datetime.now(UTC)) - created).total_seconds())
    if secs < 120:
        return f"{max(secs, 0)}s"
    if secs < 7200:
        return f"{secs // 60}m"
    if secs < 172800:
        return f"{secs // 3600}h"
    return f"{secs // 86400}d"


def _meta(o: Obj) -> Mapping[str, Any]:
    return o.get("metadata") or {}


def _labels(m: Mapping[str, str] | None) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((m or {}).items())) or "<none>"


def _pod_row(o: Obj, wide: bool) -> list[str]:
    spec, status = o.get("spec") or {}, o.get("status") or {}
    n = len(spec.get("containers") or []) or 1
    row = [_meta(o)["name"], f"{n}/{n}", status.get("phase") or "Running", "0", age(o)]
    if wide:
        row += [status.get("podIP") or "<none>", spec.get("nodeName") or "<none>"]
    return row


def _svc_ports(spec: Mapping[str, Any]) -> str:
    out = []
    for p in spec.get("ports") or []:
        s = str(p["port"])
        if p.get("nodePort"):
            s += f":{p['nodePort']}"
        out.append(f"{s}/{p.get('protocol', 'TCP')}")
    return ",".join(out) or "<none>"


def _svc_row(o: Obj, wide: bool) -> list[str]:
    spec = o.get("spec") or {}
    row = [
        _meta(o)["name"],
        spec.get("type", "ClusterIP"),
        spec.get("clusterIP") or "<none>",
        spec.get("externalName") or "<none>",
        _svc_ports(spec),
        age(o),
    ]
    if wide:
        row.append(_labels(spec.get("selector")))
    return row


def _node_row(o: Obj, wide: bool) -> list[str]:
    name = _meta(o)["name"]
    role = "control-plane" if name.endswith("control-plane") else "<none>"
    row = [name, "Ready", role, age(o), "v1.31.0"]
    if wide:
        ip = next(
            (
                a["address"]
                for a in (o.get("status") or {}).get("addresses") or []
                if a.get("type") == "InternalIP"
            ),
            "<none>",
        )
        row += [ip, (o.get("spec") or {}).get("podCIDR") or "<none>"]
    return row


def _ns_row(o: Obj, wide: bool) -> list[str]:
    return [_meta(o)["name"], "Active", age(o)]


def _np_row(o: Obj, wide: bool) -> list[str]:
    sel = ((o.get("spec") or {}).get("podSelector") or {}).get("matchLabels")
    return [_meta(o)["name"], _labels(sel) if sel else "<none>", age(o)]


def _cnp_row(o: Obj, wide: bool) -> list[str]:
    return [_meta(o)["name"], age(o), "True"]


def _workload_row(o: Obj, wide: bool) -> list[str]:
    r = (o.get("spec") or {}).get("replicas", 1)
    r = 1 if r is None else r
    return [_meta(o)["name"], f"{r}/{r}", str(r), str(r), age(o)]


def _generic_row(o: Obj, wide: bool) -> list[str]:
    return [_meta(o)["name"], age(o)]


COLUMNS: dict[str, tuple[Sequence[str], Sequence[str], Callable[[Obj, bool], list[str]]]] = {
    "Pod": (("NAME", "READY", "STATUS", "RESTARTS", "AGE"), ("IP", "NODE"), _pod_row),
    "Service": (
        ("NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"),
        ("SELECTOR",),
        _svc_row,
    ),
    "Node": (("NAME", "STATUS", "ROLES", "AGE", "VERSION"), ("INTERNAL-IP", "POD-CIDR"), _node_row),
    "Namespace": (("NAME", "STATUS", "AGE"), (), _ns_row),
    "NetworkPolicy": (("NAME", "POD-SELECTOR", "AGE"), (), _np_row),
    "CiliumNetworkPolicy": (("NAME", "AGE", "VALID"), (), _cnp_row),
    "CiliumClusterwideNetworkPolicy": (("NAME", "AGE", "VALID"), (), _cnp_row),
    "Deployment": (("NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"), (), _workload_row),
    "StatefulSet": (
        ("NAME", "READY", "AGE"),
        (),
        lambda o, w: [_workload_row(o, w)[i] for i in (0, 1, 4)],
    ),
}


def resource_table(
    kind: str, objs: Sequence[Obj], *, wide: bool, all_namespaces: bool, namespaced: bool
) -> str:
    head, extra, row = COLUMNS.get(kind, (("NAME", "AGE"), (), _generic_row))
    headers = list(head) + (list(extra) if wide else [])
    rows = []
    for o in objs:
        r = row(o, wide)
        if all_namespaces and namespaced:
            r = [_meta(o).get("namespace", ""), *r]
        rows.append(r)
    if all_namespaces and namespaced:
        headers = ["NAMESPACE", *headers]
    return table(headers, rows)


def as_list(objs: Sequence[Obj]) -> Any:
    if len(objs) == 1:
        return objs[0]
    return {
        "apiVersion": "v1",
        "kind": "List",
        "items": list(objs),
        "metadata": {"resourceVersion": ""},
    }


def to_json(data: Any) -> str:
    return json.dumps(data, indent=4, sort_keys=False)


def to_yaml(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True)


def render_objects(
    kind: str,
    plural: str,
    objs: Sequence[Obj],
    output: str,
    *,
    all_namespaces: bool,
    namespaced: bool,
) -> str:
    if output == "json":
        return to_json(as_list(objs))
    if output == "yaml":
        return to_yaml(as_list(objs))
    if output == "name":
        singular = kind.lower()
        return "\n".join(f"{singular}/{_meta(o)['name']}" for o in objs)
    return resource_table(
        kind, objs, wide=output == "wide", all_namespaces=all_namespaces, namespaced=namespaced
    )


def render_data(data: Any, output: str) -> str | None:
    """JSON/YAML for non-resource results (status, trace, …); ``None`` for human formats."""
    if output == "json":
        return to_json(data)
    if output == "yaml":
        return to_yaml(data)
    return None
