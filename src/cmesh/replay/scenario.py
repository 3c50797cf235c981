"""The policy set a replay runs against: the home's, plus proposed policies, in memory only.

``--policies DIR`` holds manifests the way ``cmesh apply -f`` reads them.  Files directly in DIR
apply to every cluster replayed; files under ``DIR/<cluster>/`` only to that cluster (what
``cmesh policy generate`` writes).  A proposed policy with the name of an existing one replaces
it, as applying it would.  They are validated as ``cmesh apply`` validates them (ref §1.2-§1.11)
and imported into the clusters' engines of a freshly loaded mesh; the store is never written.

Names the clusters' DNS proxies learned live are forgotten: a replay learns them again from
the DNS traffic of the log, under the policies evaluated (ref §2.11).

Per-policy audit (``policy.cilium.io/audit-mode``, ref §2.12, §7.3): by default replay answers
"what breaks once these are enforced", so audited rules are evaluated as enforced; with
``audit="report"`` they are kept audited, and what they would drop shows as AUDIT.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cmesh.datapath import Mesh, load_mesh
from cmesh.errors import InvalidArgument, InvalidPolicy
from cmesh.model import POLICY_KINDS, Resource, load_text
from cmesh.policy import ClusterView, import_resource, validate_all
from cmesh.policy.view import import_context
from cmesh.registry import read_text_file

SUFFIXES = (".yaml", ".yml", ".json")


@dataclass
class Proposed:
    """Proposed policies per cluster ("" : every cluster replayed), and what was ignored."""

    by_cluster: dict[str, list[Resource]] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)

    def count(self) -> int:
        return sum(len(v) for v in self.by_cluster.values())


def _files(root: Path) -> Iterable[Path]:
    return sorted(p for p in root.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)


def read_proposed(path: str | Path, clusters: Sequence[str]) -> Proposed:
    """Read and validate the manifests of ``path`` (a directory or one file)."""
    root = Path(path)
    if not root.exists():
        raise InvalidArgument(
            f'the path "{path}" does not exist', hint="give the directory of proposed policies"
        )
    groups: dict[str, list[Path]] = {}
    if root.is_file():
        groups[""] = [root]
    else:
        groups[""] = list(_files(root))
        for sub in sorted(p for p in root.iterdir() if p.is_dir()):
            if sub.name not in clusters:
                raise InvalidArgument(
                    f"{sub}: not a cluster of this home",
                    hint=f"subdirectories name the cluster they apply to: {', '.join(clusters)}",
                )
            groups[sub.name] = sorted(
                p for p in sub.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
            )
    out = Proposed()
    diags = []
    for cluster, files in groups.items():
        for f in files:
            resources, found = load_text(read_text_file(f), str(f))
            diags += found
            diags += validate_all(resources)
            for r in resources:
                if r.kind in POLICY_KINDS:
                    out.by_cluster.setdefault(cluster, []).append(r)
                else:
                    out.ignored.append(f"{r.source}: {r.kind} {r.name} (not a policy)")
    InvalidPolicy.raise_if_errors(diags)
    return out


def enforce_audited(view: ClusterView) -> list[str]:
    """Evaluate every per-policy-audited rule of ``view`` as enforced; returns their names."""
    changed = []
    for key, rules in sorted(view.engine.repo.policies.items()):
        if any(r.audit for r in rules):
            view.engine.set_policy(key, [replace(r, audit=False) for r in rules])
            changed.append(f"{key[1]}/{key[2]}" if key[1] else key[2])
    return changed


def forget_learned_names(view: ClusterView) -> None:
    """Drop what the cluster's DNS proxy learned live: a replay learns names from the log's
    DNS traffic under the policies being evaluated (ref §2.11, :mod:`cmesh.replay.evaluate`)."""
    for info in list(view.engine.cache.identities.values()):
        if info.fqdns and info.cidr:
            view.engine.forget_fqdn(info.cidr.rsplit("/", 1)[0])


def import_proposed(view: ClusterView, resources: Iterable[Resource]) -> None:
    ctx = import_context(view.cfg, view.inventory)
    for res in resources:
        view.engine.set_policy(res.key, import_resource(res, ctx))


def scenario_mesh(
    home: Any,
    proposed: Proposed | None = None,
    *,
    clusters: Sequence[str] | None = None,
    audit: str = "enforce",
    mesh: Mesh | None = None,
) -> tuple[Mesh, list[str]]:
    """A fresh in-memory mesh of ``home`` with ``proposed`` imported.

    Returns the mesh and the audited policies now evaluated as enforced.
    """
    mesh = mesh if mesh is not None else load_mesh(home)
    targets = list(clusters) if clusters is not None else sorted(mesh.views)
    promoted: list[str] = []
    for name in targets:
        view = mesh.views[name]
        forget_learned_names(view)
        if proposed is not None:
            import_proposed(view, proposed.by_cluster.get("", []))
            import_proposed(view, proposed.by_cluster.get(name, []))
        if audit == "enforce":
            promoted += [f"{name}:{p}" for p in enforce_audited(view)]
    return mesh, promoted
