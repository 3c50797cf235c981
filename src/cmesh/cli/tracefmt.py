"""Render a trace: a JSON-ready dict (the stable JSONL result format) and a short story."""

from __future__ import annotations

from typing import Any

from cmesh.datapath import Peer, PeerKind, Side, Trace
from cmesh.identity import describe
from cmesh.policy import Decision, PolicyRef


def ref_dict(ref: PolicyRef) -> dict[str, Any]:
    return {
        "kind": ref.kind,
        "namespace": ref.namespace,
        "name": ref.name,
        "rule": ref.rule,
        "source": ref.source,
    }


def peer_dict(p: Peer) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": p.kind.value, "ip": p.ip}
    if p.cluster:
        out["cluster"] = p.cluster
    if p.endpoint is not None:
        out.update(
            namespace=p.endpoint.namespace,
            pod=p.endpoint.name,
            identity=p.endpoint.identity,
            node=p.endpoint.node,
        )
    if p.node is not None:
        out["node"] = p.node.name
    if p.names:
        out["names"] = list(p.names)
    return out


def decision_dict(side: Side | None) -> dict[str, Any] | None:
    if side is None:
        return None
    d: Decision = side.decision
    out: dict[str, Any] = {
        "cluster": side.cluster,
        "verdict": d.verdict.name,
        "drop_reason": d.drop_reason.name if d.drop_reason else None,
        "enforced": d.enforced,
        "default_deny": d.default_deny,
        "match_type": d.match_type.text,
        "peer_identity": side.peer_identity,
        "peer_labels": side.peer_labels.sorted_strings(),
        "allowed_by": [ref_dict(r) for r in d.allowed_by],
        "denied_by": [ref_dict(r) for r in d.denied_by],
        "audited_by": [ref_dict(r) for r in d.audited_by],
        "default_deny_by": [ref_dict(r) for r in d.default_deny_by],
    }
    if d.l7 is not None:
        out["l7"] = {
            "evaluated": False,
            "rules": [str(rule) for l7 in d.l7 for rule in l7.rules],
        }
    if d.auth:
        out["auth"] = d.auth
    if d.note:
        out["note"] = d.note
    if side.misses:
        out["nearest_misses"] = [
            {
                "policy": ref_dict(m.policy),
                "path": m.path,
                "line": m.line,
                "mismatches": [{"field": x.field, "text": x.text} for x in m.mismatches],
            }
            for m in side.misses
        ]
    return out


def trace_dict(t: Trace) -> dict[str, Any]:
    f = t.flow
    out: dict[str, Any] = {
        "verdict": f.verdict.name,
        "drop_reason": f.drop_reason.name if f.drop_reason else None,
        "decided_at": f.decided_at or None,
        "src": peer_dict(f.src),
        "dst": peer_dict(f.dst),
        "protocol": f.protocol.value,
        "port": f.port,
        "egress": decision_dict(f.egress),
        "ingress": decision_dict(f.ingress),
        "policies": [ref_dict(r) for r in f.policies],
    }
    if t.service is not None:
        s = t.service
        out["service"] = {
            "namespace": s.service.namespace,
            "name": s.service.name,
            "cluster_ip": s.service.cluster_ip,
            "port": s.port,
            "backend": peer_dict(s.backend),
            "target_port": s.target_port,
            "backends": s.backends,
        }
    if f.notes:
        out["notes"] = list(f.notes)
    if t.l7 is not None:
        out["l7"] = t.l7.to_json()
    if t.dns is not None:
        out["dns"] = t.dns.to_json()
    return out


def _who(p: Peer) -> str:
    if p.kind is PeerKind.POD and p.endpoint is not None:
        return f"{p.display} ({p.ip}, identity {p.endpoint.identity})"
    return (
        f"{p.display} ({p.kind.value})" if p.kind is not PeerKind.WORLD else f"{p.display} (world)"
    )


def _refs(refs: tuple[PolicyRef, ...]) -> str:
    return ", ".join(f"{r}{' (' + r.source + ')' if r.source else ''}" for r in refs)


def _side_story(name: str, side: Side | None, subject: Peer, l7_asked: bool = False) -> list[str]:
    if side is None:
        return [f"{name}: {subject.display} is not a Cilium endpoint here; nothing to enforce."]
    d = side.decision
    who = (
        f"{name} ({side.cluster}, {subject.display}, peer identity {describe(side.peer_identity)})"
    )
    if d.note and not d.allowed_by and not d.denied_by and d.verdict.name == "FORWARDED":
        return [f"{who}: allowed — {d.note}."]
    if d.verdict.name in ("FORWARDED", "REDIRECTED"):
        if not d.enforced:
            return [
                f"{who}: allowed — no policy selects this endpoint for {name.lower()}, so it is not in default deny."
            ]
        if not d.allowed_by:
            return [
                f"{who}: allowed — this direction is not in default deny and no deny rule matches."
            ]
        lines = [f"{who}: allowed by {_refs(d.allowed_by)} (match {d.match_type.text})."]
        if d.l7:
            lines.append(
                "  L7 rules apply on this port; the request must match one of: "
                + "; ".join(str(r) for l7 in d.l7 for r in l7.rules)
                + ("." if l7_asked else " (give --http-method/--http-path to decide a request).")
            )
        return lines
    if d.verdict.name == "AUDIT":
        by = _refs(d.audited_by) if d.audited_by else "audit mode"
        return [
            f"{who}: would be DROPPED ({d.drop_reason.name if d.drop_reason else ''}) by {by}, but audited: the flow passes and is reported as AUDIT."
        ]
    if d.drop_reason is not None and d.drop_reason.name == "POLICY_DENY":
        return [
            f"{who}: DROPPED by a deny rule of {_refs(d.denied_by)} (POLICY_DENY; deny wins over every allow)."
        ]
    lines = [f"{who}: DROPPED (POLICY_DENIED) — {name.lower()} is in default deny"]
    if d.default_deny_by:
        lines[0] += " because these policies select the endpoint: " + _refs(d.default_deny_by) + "."
    else:
        lines[0] += " (policy enforcement mode 'always')."
    if side.misses:
        lines.append("  Nearest misses:")
        for i, m in enumerate(side.misses, 1):
            where = (
                f"{m.policy.source.rpartition(':')[0]}:{m.line}"
                if m.line and m.policy.source
                else m.policy.source
            )
            lines.append(
                f"  {i}. {m.policy} {m.path}{' (' + where + ')' if where else ''}: "
                + "; ".join(f"{x.field}: {x.text}" for x in m.mismatches)
            )
    return lines


def trace_story(t: Trace) -> str:
    f = t.flow
    lines = [f"Flow: {_who(f.src)} → {_who(f.dst)}, {f.protocol.value}/{f.port}"]
    if t.service is not None:
        s = t.service
        lines.append(
            f"Service: {s.service.namespace}/{s.service.name} {s.service.cluster_ip}:{s.port} → backend {s.backend.display}:{s.target_port} (1 of {s.backends})"
        )
    lines += _side_story("Egress", f.egress, f.src, t.l7 is not None)
    lines += _side_story("Ingress", f.ingress, f.dst, t.l7 is not None)
    lines += [f"Note: {n}" for n in f.notes]
    if t.dns is not None:
        lines.insert(
            1,
            f"DNS: the name resolved through the source's DNS proxy: {t.dns.answer} ({t.dns.verdict})",
        )
    if t.l7 is not None:
        r = t.l7
        what = {"http": "HTTP request", "dns": "DNS query", "tls": "TLS handshake"}[r.kind]
        if not r.evaluated:
            lines.append(f"L7: {what} not evaluated: {'; '.join(r.notes)}")
        else:
            lines.append(
                f"L7: {what} {r.verdict}"
                + (f" — answer {r.answer}" if r.answer else "")
                + (f" (by the {r.by})" if r.by else "")
                + ("; " + "; ".join(r.notes) if r.notes else "")
            )
    tail = f"Verdict: {f.verdict.name}"
    if (
        t.l7 is not None
        and t.l7.evaluated
        and t.l7.verdict in ("DROPPED", "AUDIT")
        and f.verdict.name != "DROPPED"
    ):
        tail = f"Verdict: {f.verdict.name} at L3/L4, {t.l7.verdict} at L7"
    if f.drop_reason:
        tail += f" ({f.drop_reason.name}, at {f.decided_at})"
    lines.append(tail)
    return "\n".join(lines)
