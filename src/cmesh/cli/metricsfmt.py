"""Assemble a cluster's exposition (stored counters and scrape-time gauges) and evaluate alert
rule files against its flow history."""

from __future__ import annotations

from typing import Any

from cmesh.errors import InvalidArgument


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

    import yaml

    from cmesh.hubble import FlowStore
    from cmesh.metrics.alerts import evaluate, parse_duration

    try:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        raise InvalidArgument(f"not YAML: {exc}", where=path) from None
    spec = (doc.get("spec") or doc) if isinstance(doc, dict) else None
    if not isinstance(spec, dict) or not isinstance(spec.get("groups") or [], list):
        raise InvalidArgument(
            "not a Prometheus rule file",
            where=path,
            hint="give a rule file (groups: [{name, rules: [...]}]) or a PrometheusRule",
        )
    flows = FlowStore(home.store).flows(cfg.name)
    now = time.time_ns()
    lines = []
    for i, g in enumerate(spec.get("groups") or []):
        for j, rule in enumerate((g or {}).get("rules") or []):
            if "alert" not in rule:
                continue
            at = f"{path}: groups[{i}].rules[{j}] (alert {rule['alert']})"
            if "expr" not in rule:
                raise InvalidArgument(f"{at}: no expr", hint="an alerting rule needs expr:")
            try:
                for_s = parse_duration(str(rule.get("for", "0s")))
            except ValueError as exc:
                raise InvalidArgument(f"{at}: for: {exc}", hint=_DURATION_HINT) from None
            try:
                ev = evaluate(rule["alert"], rule["expr"], for_s, flows, now)
            except ValueError as exc:
                raise InvalidArgument(f"{at}: {exc}", hint=_EXPR_HINT) from None
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
