"""What a replay changes, grouped by the policy and rule that decide it, as data and as text.

Two changes matter (issue 9): flows recorded as passing that would now be dropped — they break
applications, and make ``cmesh replay`` exit 1 — and flows recorded as dropped that would now
pass.  Each change is grouped by its deciding policy and rule:

* an explicit deny: the denying policies and the deny rules that matched (ref §2.5);
* default deny: "no rule allows it" and the rules that put the endpoint in default deny
  (ref §2.2), so the user sees which policy to widen;
* an L7 refusal: the policies whose HTTP or DNS rules refused the request (ref §2.6-§2.8);
* a newly allowed flow: the allowing policies and rules.

Counts are events of the log (``flows``) and distinct keys (``connections``); examples are the
busiest keys of the group.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from cmesh.policy import Decision, PolicyRef
from cmesh.replay.evaluate import KeyResult, ReplayResult, SideResult
from cmesh.replay.reader import ReadStats
from cmesh.replay.records import PROTOCOL_NAMES, FlowLog, Observed
from cmesh.replay.tables import EGRESS

EXAMPLES = 3


def ref_text(ref: PolicyRef) -> str:
    where = f"{ref.namespace}/{ref.name}" if ref.namespace else ref.name
    return f"{ref.short_kind} {where}"


def _paths(d: Decision) -> list[str]:
    return sorted({me.entry.path for me in d.entries if me.entry.path})


def flow_text(r: KeyResult) -> str:
    _obs, _s, _d, proto, port, _side, _o, l7 = r.key
    text = f"{r.src.display} -> {r.dst.display}:{port}/{PROTOCOL_NAMES.get(proto, '?')}"
    if l7 is not None:
        text += f" {l7[1]} {l7[2]}".rstrip() if l7[0] == "http" else f" DNS {l7[1]}"
    return text


def _reason(side: SideResult) -> tuple[str, tuple[str, ...], str]:
    """(kind, policies, rule text) of why ``side`` drops."""
    d = side.decision
    direction = "egress" if side.direction == EGRESS else "ingress"
    assert d is not None
    if side.l7_denied:
        rules = ", ".join(str(r) for x in d.l7 or () for r in (*x.http, *x.dns))
        return (
            f"L7 refused at {direction} (cluster {side.cluster})",
            tuple(ref_text(r) for r in d.allowed_by),
            f"{', '.join(_paths(d))}: only {rules}",
        )
    if d.denied_by:
        return (
            f"denied at {direction} (cluster {side.cluster}, POLICY_DENY)",
            tuple(ref_text(r) for r in d.denied_by),
            ", ".join(_paths(d)),
        )
    return (
        f"default deny at {direction} (cluster {side.cluster}, POLICY_DENIED)",
        tuple(ref_text(r) for r in d.default_deny_by),
        "no rule allows it",
    )


def _nearest(result: ReplayResult, items: list[KeyResult]) -> str:
    for r in sorted(items, key=lambda i: -i.count):
        side = r.deciding
        if side is None:
            continue
        key = (side.cluster, side.direction, side.subject, side.peer, r.key[3], r.key[4])
        miss = result.misses.get(key)
        if miss is not None:
            why = "; ".join(m.text for m in miss.mismatches)
            return f"{ref_text(miss.policy)} {miss.path}: {why}"
    return ""


def _allowers(r: KeyResult) -> tuple[str, tuple[str, ...], str]:
    refs: list[str] = []
    paths: list[str] = []
    for s in r.sides:
        if s.decision is not None:
            refs += [ref_text(x) for x in s.decision.allowed_by]
            paths += _paths(s.decision)
    if not refs:
        return "no policy enforces it now", (), ""
    return "allowed", tuple(dict.fromkeys(refs)), ", ".join(dict.fromkeys(paths))


@dataclass
class Group:
    change: str  # "breaks" | "opens"
    reason: str
    policies: tuple[str, ...]
    rule: str
    flows: int = 0
    connections: int = 0
    examples: list[tuple[str, int]] = field(default_factory=list)
    nearest: str = ""  # default deny: the rule that came closest to admitting the busiest flow

    def to_dict(self) -> dict[str, Any]:
        return {
            "nearest_miss": self.nearest,
            "change": self.change,
            "reason": self.reason,
            "policies": list(self.policies),
            "rule": self.rule,
            "flows": self.flows,
            "connections": self.connections,
            "examples": [{"flow": f, "count": n} for f, n in self.examples],
        }


@dataclass
class Report:
    groups: list[Group]
    totals: dict[str, int]
    read: dict[str, Any]
    notes: list[str]

    @property
    def breaks(self) -> int:
        return self.totals.get("breaks_flows", 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.totals,
            "input": self.read,
            "changes": [g.to_dict() for g in self.groups],
            "notes": self.notes,
        }


def build_report(
    result: ReplayResult,
    log: FlowLog,
    stats: ReadStats | None = None,
    notes: list[str] | None = None,
) -> Report:
    groups: dict[tuple[str, str, tuple[str, ...], str], Group] = {}
    per_group: dict[tuple[str, str, tuple[str, ...], str], list[KeyResult]] = {}
    totals: Counter[str] = Counter()
    unchecked = 0
    with_requests = {r.key[1:5] for r in result.results if r.key[7] is not None}
    for r in result.results:
        totals["flows"] += r.count
        totals["connections"] += 1
        out = r.outcome
        totals[f"now_{out.name.lower()}"] += r.count
        if any(s.l7_unchecked for s in r.sides) and r.key[1:5] not in with_requests:
            unchecked += r.count
        if r.broken:
            side = r.deciding
            assert side is not None
            reason, pols, rule = _reason(side)
            gk = ("breaks", reason, pols, rule)
            totals["breaks_flows"] += r.count
            totals["breaks_connections"] += 1
        elif r.opened:
            reason, pols, rule = _allowers(r)
            gk = ("opens", reason, pols, rule)
            totals["opens_flows"] += r.count
            totals["opens_connections"] += 1
        else:
            continue
        per_group.setdefault(gk, []).append(r)
    for gk, items in per_group.items():
        g = Group(gk[0], gk[1], gk[2], gk[3])
        g.flows = sum(i.count for i in items)
        g.connections = len(items)
        if gk[0] == "breaks":
            g.nearest = _nearest(result, items)
        by_text: Counter[str] = Counter()
        for i in items:
            by_text[flow_text(i)] += i.count
        g.examples = sorted(by_text.items(), key=lambda kv: (-kv[1], kv[0]))[:EXAMPLES]
        groups[gk] = g
    ordered = sorted(groups.values(), key=lambda g: (g.change != "breaks", -g.flows, g.reason))
    for k in (
        "breaks_flows",
        "breaks_connections",
        "opens_flows",
        "opens_connections",
        "now_pass",
        "now_audit",
        "now_drop",
    ):
        totals.setdefault(k, 0)
    totals["recorded_dropped"] = sum(
        r.count for r in result.results if r.observed is Observed.DROPPED
    )
    totals["l7_unchecked_flows"] = unchecked
    read: dict[str, Any] = {
        "events": log.events,
        "replayed_events": log.kept,
        "skipped": {s.name.lower(): n for s, n in log.skipped.items()},
        "out_of_scope_connections": result.out_of_scope,
        "identities_recreated": result.synthesized,
    }
    if stats is not None:
        read.update(
            source=stats.source,
            lines=stats.lines,
            malformed=stats.malformed,
            malformed_lines=[{"line": n, "error": e} for n, e in stats.errors],
            not_flows=stats.not_flows,
        )
    all_notes = list(notes or [])
    if result.unknown_clusters:
        all_notes.append(
            "flows name clusters this home does not have (their pods enforce nothing here): "
            + ", ".join(sorted(result.unknown_clusters))
        )
    if unchecked:
        all_notes.append(
            f"{unchecked} flows would now go through an L7 proxy, but the log holds no request "
            "for them: their L3/L4 verdict is replayed, their requests cannot be"
        )
    return Report(ordered, dict(totals), read, all_notes)


# -- rendering ---------------------------------------------------------------------------------


def render_text(rep: Report) -> str:
    t = rep.totals
    lines = [
        f"Replayed {t.get('flows', 0)} flows ({t.get('connections', 0)} distinct connections): "
        f"{t.get('now_pass', 0)} pass, {t.get('now_audit', 0)} audited, "
        f"{t.get('now_drop', 0)} dropped.",
    ]
    if t["breaks_flows"]:
        lines.append(
            f"BREAKS: {t['breaks_flows']} flows ({t['breaks_connections']} connections) "
            "were forwarded and would now be dropped."
        )
    else:
        lines.append("Nothing that was forwarded would be dropped.")
    if t["opens_flows"]:
        lines.append(
            f"Opens: {t['opens_flows']} flows ({t['opens_connections']} connections) "
            "were dropped and would now pass."
        )
    for g in rep.groups:
        head = "BREAKS" if g.change == "breaks" else "OPENS"
        pols = ", ".join(g.policies) or "-"
        lines.append("")
        lines.append(f"{head}  {g.flows} flows, {g.connections} connections — {g.reason}")
        lines.append(f"  policy: {pols}")
        if g.rule:
            lines.append(f"  rule:   {g.rule}")
        if g.nearest:
            lines.append(f"  nearest rule: {g.nearest}")
        for f, n in g.examples:
            lines.append(f"    {n:>6} × {f}")
    lines += _input_lines(rep)
    return "\n".join(lines)


def _input_lines(rep: Report) -> list[str]:
    r = rep.read
    out = [""]
    skipped = ", ".join(f"{k} {v}" for k, v in sorted(r.get("skipped", {}).items()))
    out.append(
        f"Input: {r.get('events', 0)} flow events, {r.get('replayed_events', 0)} replayed"
        + (f"; skipped: {skipped}" if skipped else "")
    )
    if r.get("malformed"):
        out.append(f"Malformed lines skipped: {r['malformed']}")
        out += [f"  line {m['line']}: {m['error']}" for m in r.get("malformed_lines", [])]
    out += [f"Note: {n}" for n in rep.notes]
    return out


def render_markdown(rep: Report) -> str:
    t = rep.totals
    lines = [
        "# Replay",
        "",
        "| | flows | connections |",
        "|---|---:|---:|",
        f"| replayed | {t.get('flows', 0)} | {t.get('connections', 0)} |",
        f"| **forwarded → dropped** | **{t['breaks_flows']}** | **{t['breaks_connections']}** |",
        f"| dropped → passes | {t['opens_flows']} | {t['opens_connections']} |",
        "",
    ]
    if rep.groups:
        lines += [
            "| change | reason | policy | rule | flows | example |",
            "|---|---|---|---|---:|---|",
        ]
        for g in rep.groups:
            ex = g.examples[0][0] if g.examples else ""
            cells = (g.reason, ", ".join(g.policies) or "-", g.rule, f"`{ex}`")
            reason, pols, rule, example = (c.replace("|", "\\|") for c in cells)  # RE2 `a|b`
            lines.append(f"| {g.change} | {reason} | {pols} | {rule} | {g.flows} | {example} |")
    lines += _input_lines(rep)
    return "\n".join(lines)
