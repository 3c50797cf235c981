"""Render the connectivity list, streamed: txt, json, csv, md and dot.

Rows arrive one at a time from :func:`cmesh.analysis.connections` and are written as they come
(a large mesh has millions), so each format writes its head, one piece per row, then its tail.
The ``txt`` form is netpol-analyzer's ``src => dst : conn``; ``json`` is one document whose
``connections`` array is written incrementally.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from typing import IO, Any

from cmesh.analysis import Connection, PairWhy
from cmesh.cli.tracefmt import ref_dict, trace_dict, trace_story

Explain = Callable[[Connection], PairWhy] | None


def l7_text(c: Connection) -> str:
    return "; ".join(f"{n.direction.value} {n}" for n in c.l7)


def conn_text(c: Connection) -> str:
    text = str(c.ports) if c.allowed else "No Connections (denied)"
    if c.l7:
        text += f" [L7 {l7_text(c)}]"
    return text


def why_lines(why: PairWhy) -> list[str]:
    out = []
    for s in why.sides:
        parts = []
        if s.allowed_by:
            parts.append("allowed by " + ", ".join(str(r) for r in s.allowed_by))
        if s.denied_by:
            parts.append("denied by " + ", ".join(str(r) for r in s.denied_by))
        if s.default_deny_by:
            parts.append("default deny from " + ", ".join(str(r) for r in s.default_deny_by))
        if s.note:
            parts.append(s.note)
        out.append(f"{s.direction.value} ({s.cluster}, {s.subject}): " + "; ".join(parts or ["-"]))
    if why.trace is not None:
        out += trace_story(why.trace).splitlines()
    return out


def why_dict(why: PairWhy) -> dict[str, Any]:
    out: dict[str, Any] = {
        "sides": [
            {
                "direction": s.direction.value,
                "cluster": s.cluster,
                "subject": s.subject,
                "allowed_by": [ref_dict(r) for r in s.allowed_by],
                "denied_by": [ref_dict(r) for r in s.denied_by],
                "default_deny_by": [ref_dict(r) for r in s.default_deny_by],
                **({"note": s.note} if s.note else {}),
            }
            for s in why.sides
        ],
        "policies": [str(r) for r in why.policies],
    }
    if why.trace is not None:
        out["trace"] = trace_dict(why.trace)
    return out


def conn_dict(c: Connection, why: PairWhy | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "src": c.src.label,
        "dst": c.dst.label,
        "src_ref": c.src.to_dict(),
        "dst_ref": c.dst.to_dict(),
        "allowed": c.allowed,
        "conn": str(c.ports) if c.allowed else "No Connections",
        "ports": c.ports.to_dict(),
    }
    if c.l7:
        out["l7"] = [
            {
                "direction": n.direction.value,
                "ports": str(n.ports),
                "rules": n.rules_text,
            }
            for n in c.l7
        ]
    if why is not None:
        out["explanation"] = why_dict(why)
    return out


def md_cell(text: str) -> str:
    """``text`` in a Markdown table cell (its pipes escaped)."""
    return text.replace("|", "\\|")


def render(rows: Iterable[Connection], output: str, out: IO[str], explain: Explain = None) -> int:
    """Write every row; returns how many were written."""
    n = 0
    if output == "json":
        out.write('{"connections": [')
    elif output == "csv":
        out.write("src,dst,conn,l7" + (",policies" if explain else "") + "\n")
    elif output == "md":
        cols = ["src", "dst", "conn"] + (["why"] if explain else [])
        out.write("| " + " | ".join(cols) + " |\n" + "|---" * len(cols) + "|\n")
    elif output == "dot":
        out.write("digraph connectivity {\n  rankdir=LR;\n  node [shape=box];\n")
    for c in rows:
        why = explain(c) if explain else None
        if output == "txt":
            out.write(f"{c.src.label} => {c.dst.label} : {conn_text(c)}\n")
            if why is not None:
                out.writelines(f"    {line}\n" for line in why_lines(why))
        elif output == "json":
            out.write(("," if n else "") + "\n  " + json.dumps(conn_dict(c, why)))
        elif output == "csv":
            buf = io.StringIO()
            row = [c.src.label, c.dst.label, str(c.ports) if c.allowed else "", l7_text(c)]
            if why is not None:
                row.append(" ".join(str(r) for r in why.policies))
            csv.writer(buf, lineterminator="\n").writerow(row)
            out.write(buf.getvalue())
        elif output == "md":
            cells = [f"`{c.src.label}`", f"`{c.dst.label}`", md_cell(conn_text(c))]
            if why is not None:
                cells.append(md_cell("<br>".join(why_lines(why))))
            out.write("| " + " | ".join(cells) + " |\n")
        elif output == "dot":
            style = "" if c.allowed else ", style=dashed, color=red"
            label = json.dumps(conn_text(c))
            out.write(
                f"  {json.dumps(c.src.label)} -> {json.dumps(c.dst.label)} [label={label}{style}];\n"
            )
        n += 1
    if output == "json":
        out.write(("\n" if n else "") + "]}\n")
    elif output == "dot":
        out.write("}\n")
    return n
