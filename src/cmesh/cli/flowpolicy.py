"""Rendering for ``policy generate``, ``policy audit-report`` and ``policy promote``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cmesh.cli.render import table


def generate_text(summary: dict[str, Any], written: bool) -> str:
    v = summary["verified"]
    lines = [
        f"Generated {summary['policies']} policies.",
        f"Verified by replay: {v['forwarded_flows']}/{v['flows']} flows "
        f"({v['connections']} connections) forwarded — {v['coverage_percent']:.1f}%.",
    ]
    if summary["dropped_flows_ignored"]:
        lines.append(
            f"{summary['dropped_flows_ignored']} flows recorded as dropped were not allowed "
            "(--include-dropped allows them)."
        )
    rows = []
    total_allowed = total_observed = 0
    for p in summary["permissiveness"]:
        total_allowed += p["allowed_tuples"]
        total_observed += p["observed_tuples"]
        rows.append(
            (
                p["cluster"],
                p["policy"],
                str(p["allowed_tuples"]),
                str(p["observed_tuples"]),
                str(p["allowed_never_observed"]),
                str(p["http_rules"]),
                str(p["dns_rules"]),
            )
        )
    lines.append("")
    lines.append(
        "Permissiveness: (identity, direction, peer identity, protocol, port) tuples allowed "
        "against those observed:"
    )
    lines.append(
        table(("CLUSTER", "POLICY", "ALLOWED", "OBSERVED", "NEVER-OBSERVED", "HTTP", "DNS"), rows)
    )
    extra = total_allowed - total_observed
    share = 100.0 * extra / total_allowed if total_allowed else 0.0
    lines.append(
        f"Total: {total_allowed} allowed, {total_observed} observed, "
        f"{extra} allowed but never observed ({share:.1f}%)."
    )
    if written:
        lines.append("")
        lines += [f"wrote {p}" for p in summary["written"]]
    return "\n".join(lines)


def audit_text(entries: Sequence[Any]) -> str:
    if not entries:
        return "No policy is in audit mode."
    rows = [
        (
            e.cluster,
            e.kind.replace("CiliumNetworkPolicy", "CNP").replace("CiliumClusterwideCNP", "CCNP"),
            e.ref,
            "clean" if e.clean else "WOULD DROP",
            str(e.flows),
            str(len(e.connections)),
        )
        for e in entries
    ]
    lines = [table(("CLUSTER", "KIND", "POLICY", "STATUS", "AUDIT-FLOWS", "CONNECTIONS"), rows)]
    for e in entries:
        if e.connections:
            lines.append("")
            lines.append(f"{e.cluster} {e.ref} would drop:")
            lines += [f"  {n:>6} × {c}" for c, n in e.connections.most_common(5)]
        if not e.audited:
            lines.append(f"note: {e.ref} is named by AUDIT flows but is no longer audited")
    return "\n".join(lines)
