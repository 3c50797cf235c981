"""Render a semantic diff: txt for terminals, md for a pull-request comment, json for tools."""

from __future__ import annotations

import json
from typing import Any

from cmesh.analysis.connectivity import Connection
from cmesh.analysis.diff import Group, SemanticDiff, summary
from cmesh.cli.listfmt import conn_text, md_cell

MARK = {"added": "+", "removed": "-", "changed": "~"}


def _conn(c: Connection | None) -> str:
    return conn_text(c) if c is not None else "No Connections"


def _cause(g: Group) -> str:
    if not g.causes:
        return "other changes (no changed policy decides them: workloads, labels, settings)"
    return "caused by " + "; ".join(str(p) for p in g.causes)


def render_txt(d: SemanticDiff) -> str:
    lines = [f"Semantic diff: {d.old} -> {d.new}"]
    if d.policies:
        lines.append("Policy changes:")
        lines += [f"  {p}" for p in d.policies]
    if not d.changed:
        lines.append("No connectivity change.")
        return "\n".join(lines)
    lines.append(summary(d) + ":")
    for g in d.groups:
        lines.append("")
        lines.append(_cause(g) + ":")
        for c in g.changes:
            text = _conn(c.new) if c.change != "removed" else _conn(c.old)
            if c.change == "changed":
                text = f"{_conn(c.old)} -> {_conn(c.new)}"
            lines.append(f"  {MARK[c.change]} {c.src} => {c.dst} : {text}")
    return "\n".join(lines)


def render_md(d: SemanticDiff) -> str:
    lines = ["### cmesh policy diff", ""]
    if not d.changed:
        lines.append("**No connectivity change.**")
    else:
        lines.append(f"**{summary(d)}**")
    if d.policies:
        lines += ["", "Policy changes:", ""]
        lines += [f"- {p}" for p in d.policies]
    for g in d.groups:
        lines += ["", f"<details open><summary>{md_cell(_cause(g))}</summary>", ""]
        lines += ["| | source | destination | before | after |", "|---|---|---|---|---|"]
        for c in g.changes:
            lines.append(
                f"| {c.change} | `{c.src}` | `{c.dst}` | {md_cell(_conn(c.old))} | {md_cell(_conn(c.new))} |"
            )
        lines += ["", "</details>"]
    lines += ["", f"<sub>{md_cell(d.old)} → {md_cell(d.new)}, by `cmesh policy diff`</sub>"]
    return "\n".join(lines)


def diff_dict(d: SemanticDiff) -> dict[str, Any]:
    return {
        "old": d.old,
        "new": d.new,
        "changed": d.changed,
        "counts": d.counts(),
        "policy_changes": [
            {
                "cluster": p.cluster,
                "kind": p.kind,
                "namespace": p.namespace,
                "name": p.name,
                "change": p.change,
            }
            for p in d.policies
        ],
        "groups": [
            {
                "causes": [str(p) for p in g.causes],
                "changes": [
                    {
                        "change": c.change,
                        "src": c.src,
                        "dst": c.dst,
                        "old": str(c.old.ports) if c.old else None,
                        "new": str(c.new.ports) if c.new else None,
                        "old_l7": [str(n) for n in c.old.l7] if c.old else [],
                        "new_l7": [str(n) for n in c.new.l7] if c.new else [],
                    }
                    for c in g.changes
                ],
            }
            for g in d.groups
        ],
    }


def render(d: SemanticDiff, output: str) -> str:
    if output == "json":
        return json.dumps(diff_dict(d), indent=2)
    return render_md(d) if output == "md" else render_txt(d)
