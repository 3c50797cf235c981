"""Assemble a cluster's exposition: stored counters and scrape-time gauges."""

from __future__ import annotations

from typing import Any


def exposition(home: Any, cfg: Any) -> bytes:
    from cmesh.datapath import load_mesh
    from cmesh.mesh import MeshManager
    from cmesh.metrics import cluster_gauges, load, render

    mesh = load_mesh(home)
    view = mesh.view(cfg.name)
    mgr = MeshManager(home)
    try:
        statuses = mgr.statuses(cfg.name)
    finally:
        mgr.close()
    node = next(iter(sorted(view.inventory.nodes)), "")
    return render(dict(load(home.store, cfg.name)), cluster_gauges(view, statuses, node))


def evaluate_rules(home: Any, cfg: Any, path: str) -> str:
    """Each alert of a rule file (or a PrometheusRule) with its value and state."""
    import time

    import yaml

    from cmesh.errors import InvalidArgument
    from cmesh.hubble import FlowStore
    from cmesh.metrics.alerts import evaluate

    with open(path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    groups = (doc.get("spec") or doc).get("groups") or []
    flows = FlowStore(home.store).flows(cfg.name)
    now = time.time_ns()
    lines = []
    for g in groups:
        for rule in g.get("rules") or []:
            if "alert" not in rule:
                continue
            for_s = _seconds(str(rule.get("for", "0s")))
            try:
                ev = evaluate(rule["alert"], rule["expr"], for_s, flows, now)
            except ValueError as exc:
                raise InvalidArgument(f"{path}: alert {rule['alert']}: {exc}") from None
            lines.append(
                f"{ev.alert}: {ev.state} (value {ev.value:.3f}, threshold {ev.threshold:g}) — {ev.expr}"
            )
    return "\n".join(lines) or "no alert rules found"


def _seconds(text: str) -> float:
    import re

    return sum(
        float(n) * {"s": 1, "m": 60, "h": 3600}[u] for n, u in re.findall(r"(\d+)([smh])", text)
    )
