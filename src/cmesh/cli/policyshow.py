"""``policy get`` and ``policy selectors``: the engine's state, rendered."""

from __future__ import annotations

import json
from typing import Any

from cmesh.cli.options import State
from cmesh.cli.render import table
from cmesh.cli.tracefmt import ref_dict
from cmesh.datapath import load_mesh
from cmesh.datapath.tracer import find_pod
from cmesh.identity import describe
from cmesh.policy import Direction, PolicyEntry


def _entry_dict(e: PolicyEntry) -> dict[str, Any]:
    out: dict[str, Any] = {
        "direction": e.direction.value,
        "action": "deny" if e.deny else "allow",
        "peer": str(e.selector),
        "protocol": e.protocol.value,
        "ports": e.named or str(e.ports),
        "policy": ref_dict(e.origin),
        "path": e.path,
    }
    if e.l7 is not None:
        out["l7"] = [str(r) for r in e.l7.rules]
    if e.auth:
        out["auth"] = e.auth
    if e.audit:
        out["audit"] = True
    return out


def show_policies(state: State, pod: str | None, output: str) -> None:
    mesh = load_mesh(state.home)
    cluster = state.home.cluster(state.context).name
    view = mesh.view(cluster)
    if pod is None:
        rows = []
        data = []
        for key, res in sorted(view.policies.items()):
            rules = view.engine.repo.policies.get(key, ())
            subjects = set()
            for r in rules:
                subjects |= view.engine.subjects(r.subject)
            eps = [e for e in view.endpoints.values() if e.identity in subjects]
            data.append(
                {
                    "kind": key[0],
                    "namespace": key[1],
                    "name": key[2],
                    "rules": len(rules),
                    "endpoints": sorted(f"{e.namespace}/{e.name}" for e in eps),
                    "source": str(res.source),
                }
            )
            rows.append(
                (
                    key[0],
                    f"{key[1]}/{key[2]}" if key[1] else key[2],
                    str(len(rules)),
                    str(len(eps)),
                    str(res.source),
                )
            )
        if output == "json":
            state.console.raw(json.dumps(data, indent=2))
        else:
            state.console.print(table(("KIND", "NAME", "RULES", "ENDPOINTS", "SOURCE"), rows))
        return
    ns, _, name = pod.rpartition("/")
    peer = find_pod(mesh, cluster, ns or "default", name)
    ep = peer.endpoint
    assert ep is not None
    sp = view.engine.selector_policy(ep.identity)
    data = {
        "endpoint": f"{ep.namespace}/{ep.name}",
        "identity": ep.identity,
        "labels": ep.labels.sorted_strings(),
        "default_deny": {d.value: view.engine.settings.default_deny(sp, d) for d in Direction},
        "default_deny_by": {
            d.value: [ref_dict(r) for r in sp.deny_by_default[d]] for d in Direction
        },
        "rules": [_entry_dict(e) for e in sp.entries],
    }
    if output == "json":
        state.console.raw(json.dumps(data, indent=2))
        return
    lines = [
        f"Endpoint {ep.namespace}/{ep.name} in {cluster}, identity {ep.identity}",
        "Labels: " + ", ".join(ep.labels.sorted_strings()),
    ]
    mode = view.cfg.policy_enforcement.value
    for d in Direction:
        by = ", ".join(str(r) for r in sp.deny_by_default[d])
        if data["default_deny"][d.value]:
            posture = "default deny" + (f" (by {by})" if by else " (enable-policy=always)")
        elif mode == "never":
            posture = "allow: policy is not enforced (enable-policy=never)"
        else:
            posture = "allow by default (no selecting rule asks for default deny)"
        lines.append(f"{d.value.capitalize()}: {posture}")
    rows = [
        (
            e.direction.value,
            "deny" if e.deny else "allow",
            str(e.selector),
            f"{e.named or e.ports}/{e.protocol.value}",
            " ".join(str(r) for r in e.l7.rules) if e.l7 else "",
            f"{e.origin} {e.path}",
        )
        for e in sp.entries
    ]
    lines.append("")
    lines.append(
        table(("DIRECTION", "ACTION", "PEER", "PORTS", "L7", "FROM"), rows)
        if rows
        else "No rules select this endpoint."
    )
    state.console.print("\n".join(lines))


def show_selectors(state: State, output: str) -> None:
    mesh = load_mesh(state.home)
    view = mesh.view(state.home.cluster(state.context).name)
    engine = view.engine
    users: dict[str, list[str]] = {}
    for r in engine.repo.rules():
        users.setdefault(str(r.subject), []).append(f"{r.ref} (subject)")
        for e in r.elements:
            if e.allows_nothing:
                continue
            for sel in e.peers if e.peers is not None else ():
                users.setdefault(str(sel), []).append(f"{r.ref} {e.path}")
    data, rows = [], []
    for sel, ids in sorted(engine.cache.selections.items(), key=lambda kv: str(kv[0])):
        used_by = sorted(set(users.get(str(sel), [])))
        data.append({"selector": str(sel), "identities": sorted(ids), "users": used_by})
        names = sorted(describe(i) if i else "(all)" for i in ids)
        rows.append((str(sel), ", ".join(names) or "(none)", "; ".join(used_by)))
    if output == "json":
        state.console.raw(json.dumps(data, indent=2))
        return
    state.console.print(table(("SELECTOR", "IDENTITIES", "USED BY"), rows))
