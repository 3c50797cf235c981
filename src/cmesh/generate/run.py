"""``cmesh policy generate`` as one call: observe, build, validate, verify, write.

Nothing is written unless verification passes (:mod:`cmesh.generate.verify`): a generated set
that would drop one of the flows it was generated from is an error, with the flows it drops.
Files go to ``DIR/<cluster>/<name>.yaml`` — one policy per file, ready for
``cmesh apply -f DIR/<cluster> --context <cluster>`` and for ``cmesh replay --policies DIR``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cmesh.datapath import load_mesh
from cmesh.errors import CmeshError
from cmesh.generate.build import PolicyDoc, build_all
from cmesh.generate.observe import Observation, observe
from cmesh.generate.verify import Verification, load_generated, to_yaml, verify
from cmesh.replay import FlowLog, ReadStats, flow_text, read_log


class GenerationNotVerified(CmeshError):
    """The generated policies would drop flows they were generated from; nothing was written."""

    code = "generation-not-verified"


@dataclass
class Generated:
    policies: dict[str, list[PolicyDoc]]
    verification: Verification
    observation: Observation
    log: FlowLog
    stats: ReadStats
    written: list[Path] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        v = self.verification
        return {
            "policies": sum(len(p) for p in self.policies.values()),
            "verified": {
                "flows": v.flows,
                "connections": v.connections,
                "forwarded_flows": v.passed_flows,
                "coverage_percent": round(v.coverage, 2),
            },
            "permissiveness": [
                {
                    "cluster": t.cluster,
                    "policy": t.policy,
                    "subject_identities": t.subjects,
                    "allowed_tuples": t.allowed,
                    "observed_tuples": t.observed,
                    "allowed_never_observed": t.unobserved,
                    "http_rules": t.http_rules,
                    "dns_rules": t.dns_rules,
                }
                for t in v.tightness
            ],
            "dropped_flows_ignored": self.observation.dropped_ignored,
            "written": [str(p) for p in self.written],
        }


def generate(
    home: Any,
    flows: str | Path,
    *,
    clusters: Sequence[str],
    per: str = "workload",
    l7: bool = False,
    enforce: bool = False,
    include_dropped: bool = False,
    out_dir: str | Path | None = None,
    log: FlowLog | None = None,
    stats: ReadStats | None = None,
) -> Generated:
    if log is None or stats is None:
        log, stats = read_log(flows)
    mesh = load_mesh(home)
    obs = observe(mesh, log, clusters, per=per, include_dropped=include_dropped, l7=l7)
    source = Path(str(flows)).name if str(flows) != "-" else "stdin"
    docs = build_all(obs.subjects.values(), l7=l7, enforce=enforce, source=source)
    resources = load_generated(docs)
    v = verify(load_mesh(home), log, resources, obs.used, clusters)
    out = Generated(docs, v, obs, log, stats)
    if not v.ok:
        lost = sum(r.count for r in v.failures)
        examples = "; ".join(flow_text(r) for r in v.failures[:5])
        raise GenerationNotVerified(
            f"the generated policies forward {v.passed_flows}/{v.flows} flows "
            f"({v.coverage:.1f}%), not all: {lost} flows would be dropped, e.g. {examples}",
            hint="an existing deny or default-deny rule may win over the generated allows; "
            "replay the log with `cmesh replay` to see which policy decides",
        )
    if out_dir is not None:
        out.written = write(docs, Path(out_dir))
    return out


def write(docs: dict[str, list[PolicyDoc]], root: Path) -> list[Path]:
    written = []
    for cluster, items in sorted(docs.items()):
        d = root / cluster
        d.mkdir(parents=True, exist_ok=True)
        for doc in items:
            p = d / f"{doc['metadata']['namespace']}-{doc['metadata']['name']}.yaml"
            p.write_text(to_yaml(doc))
            written.append(p)
    return written


def render_yaml(docs: dict[str, list[PolicyDoc]]) -> str:
    parts = []
    for cluster, items in sorted(docs.items()):
        for doc in items:
            parts.append(f"# cluster: {cluster}\n" + to_yaml(doc))
    return "---\n".join(parts)
