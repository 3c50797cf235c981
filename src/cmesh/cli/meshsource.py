"""Which mesh an analysis command reads (the home, a mesh file, manifests) and which clusters.

Shared by ``policy list``, ``policy diff`` and ``test``; the loading itself is
:mod:`cmesh.analysis.sources`.
"""

from __future__ import annotations

from cmesh.analysis import LoadedMesh, load_mesh_source
from cmesh.cli.options import State
from cmesh.errors import InvalidArgument
from cmesh.registry import Home


def home_or_none(state: State) -> Home | None:
    """The home when it exists; offline analyses of manifests must not create one."""
    home = state.home
    return (
        home if (home.path / "config.json").exists() or home.kvstore or _has_store(home) else None
    )


def _has_store(home: Home) -> bool:
    return (home.path / "store.db").exists()


def load(state: State, spec: str, *, fresh: bool = False) -> LoadedMesh:
    home = home_or_none(state)
    context = state.context
    if home is not None and spec in ("", "HOME") and context:
        context = home.cluster(context).context
    return load_mesh_source(spec or "HOME", home, context, fresh=fresh)


def scope(state: State, lm: LoadedMesh, all_clusters: bool) -> list[str] | None:
    """The clusters to list: all, or the ``--context`` one (the current one by default)."""
    if all_clusters or len(lm.mesh.views) == 1:
        return None if all_clusters else sorted(lm.mesh.views)
    name = state.context or lm.context
    home = home_or_none(state)
    if name and name not in lm.mesh.views and home is not None:
        name = home.cluster(name).name  # a context of the home names its cluster
    if not name or name not in lm.mesh.views:
        raise InvalidArgument(
            "which cluster? the mesh has " + ", ".join(sorted(lm.mesh.views)),
            hint="pass --context NAME, or --all-clusters for every cluster and the pairs across them",
        )
    return [name]
