"""``cmesh replay`` as one call: read, deduplicate, load the policy set, replay, report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmesh.replay.evaluate import ReplayResult, replay
from cmesh.replay.reader import Progress, ReadStats, read_flows
from cmesh.replay.records import FlowLog
from cmesh.replay.report import Report, build_report
from cmesh.replay.scenario import read_proposed, scenario_mesh


@dataclass
class Run:
    log: FlowLog
    stats: ReadStats
    result: ReplayResult
    report: Report


def read_log(path: str | Path, on_progress: Progress | None = None) -> tuple[FlowLog, ReadStats]:
    """Read and deduplicate a flow log (see :mod:`cmesh.replay.reader`, :mod:`.records`)."""
    stats = ReadStats()
    log = FlowLog()
    log.add_all(read_flows(path, stats, on_progress, cache=log), stats)
    return log, stats


def run_replay(
    home: Any,
    flows: str | Path,
    *,
    clusters: Sequence[str] | None = None,
    policies: str | Path | None = None,
    audit: str = "enforce",
    on_progress: Progress | None = None,
    log: FlowLog | None = None,
    stats: ReadStats | None = None,
) -> Run:
    """Replay the flows of ``flows`` against ``home``'s policies (plus ``policies``).

    ``clusters``: the clusters whose flows and policies are replayed (``None``: all).
    """
    if log is None or stats is None:
        log, stats = read_log(flows, on_progress)
    names = [c.name for c in home.clusters()]
    proposed = read_proposed(policies, names) if policies is not None else None
    mesh, promoted = scenario_mesh(home, proposed, clusters=clusters, audit=audit)
    result = replay(mesh, log, clusters=clusters)
    notes = []
    if proposed is not None:
        notes.append(f"{proposed.count()} proposed policies from {policies}")
        notes += [f"ignored {x}" for x in proposed.ignored]
    if promoted:
        notes.append("audited policies evaluated as enforced: " + ", ".join(promoted))
    for cluster, names_ in sorted(result.learned.items()):
        notes.append(f"{cluster}: DNS names the proxy would learn: {', '.join(sorted(names_))}")
    return Run(log, stats, result, build_report(result, log, stats, notes))
