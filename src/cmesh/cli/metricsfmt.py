"""Assemble a cluster's exposition (stored counters and scrape-time gauges) and evaluate alert
rule files against its flow history."""

from __future__ import annotations

from typing import Any


def exposition(home: Any, cfg: Any) -> bytes:
    """What ``cmesh metrics`` prints: the cluster's view and mesh status, loaded now."""
    from cmesh.datapath import load_mesh
    from cmesh.mesh import MeshManager

    view = load_mesh(home).view(cfg.name)
    mgr = MeshManager(home)
    try:
        statuses = mgr.statuses(cfg.name)
    finally:
        mgr.close()
    return render_exposition(home.store, cfg.name, view, statuses)


def render_exposition(store: Any, cluster: str, view: Any, statuses: Any) -> bytes:
    """The exposition of ``cluster`` from its stored counters and a view and mesh status the
    caller holds (``cmesh agent`` keeps both current between scrapes)."""
    from cmesh.metrics import cluster_gauges, load, render

    node = next(iter(sorted(view.inventory.nodes)), "")
    return render(dict(load(store, cluster)), cluster_gauges(view, statuses, node))


def evaluate_rules(home: Any, cfg: Any, path: str) -> str:
    """Each alert of a rule file (or a PrometheusRule) with its value and state."""
    import time

    from cmesh.hubble import FlowStore
    from cmesh.metrics.alerts import evaluate, parse_duration
    from cmesh.model.fields import FieldPath, FieldReader
    from cmesh.registry import read_text_file

    text = read_text_file(path, "rule file")
    hint = "give a rule file (groups: [{name, rules: [...]}]) or a PrometheusRule"
    r, doc = FieldReader.document(text, path, "Prometheus rule file", hint)
    top: FieldPath = ("spec",) if "spec" in doc else ()
    spec = r.mapping(doc.get("spec"), top) if top else doc
    if "groups" not in spec:
        raise r.err(top, "not a Prometheus rule file: no groups")
    flows = FlowStore(home.store).flows(cfg.name)
    now = time.time_ns()
    lines = []
    for i, g in enumerate(r.items(spec.get("groups"), (*top, "groups"))):
        gp: FieldPath = (*top, "groups", i)
        group = r.mapping(g, gp)
        for j, item in enumerate(r.items(group.get("rules"), (*gp, "rules"))):
            rp: FieldPath = (*gp, "rules", j)
            rule = r.mapping(item, rp)
            if "alert" not in rule:
                continue  # a recording rule
            alert = r.text(rule["alert"], (*rp, "alert"))
            if "expr" not in rule:
                raise r.err(rp, f"alert {alert}: no expr", "an alerting rule needs expr:")
            expr = r.text(rule["expr"], (*rp, "expr"))
            try:
                for_s = parse_duration(r.text(rule.get("for"), (*rp, "for"), "0s"))
            except ValueError as exc:
                raise r.err((*rp, "for"), f"alert {alert}: {exc}", _DURATION_HINT) from None
            try:
                ev = evaluate(alert, expr, for_s, flows, now)
            except ValueError as exc:
                raise r.err((*rp, "expr"), f"alert {alert}: {exc}", _EXPR_HINT) from None
            lines.append(
                f"{ev.alert}: {ev.state} (value {ev.value:.3f}, threshold {ev.threshold:g}) — {ev.expr}"
            )
    return "\n".join(lines) or "no alert rules found"


_DURATION_HINT = (
    "write a Prometheus duration: whole numbers with units y, w, d, h, m, s, ms, largest first "
    "(500ms, 5m, 1h30m, 2d, 1w)"
)
_EXPR_HINT = (
    "cmesh evaluates rate(M[D]) or increase(M[D]) of a flow counter, optionally with {label=...} "
    "and in sum(...), compared with a number, D a Prometheus duration (e.g. 5m, 1h30m); "
    "check other expressions with promtool"
)
