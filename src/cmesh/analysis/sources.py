"""Where an analysis gets its clusters: the home, a mesh file, or manifests over the home.

The analyses answer "what would these policies allow" before anything is applied, so a mesh is
built purely, the way ``cmesh apply`` would build it (load, validate as Cilium would, plan, build
each cluster's view, then ``Mesh.connect`` the connected clusters in memory, ref §3.5):

* **the home** — every cluster of ``CMESH_HOME`` as it is;
* **a mesh file** (a YAML mapping with ``clusters:``, or a folder holding ``mesh.yaml``) — a
  full description of the clusters, each with its manifests (see ``docs/analysis.md``);
* **manifests** (a file or a folder of them) — applied on top of one cluster of the home, as
  ``cmesh apply -f`` would apply them (nothing is written), or, when the home has no cluster,
  taken alone as one cluster named ``default``.

Nothing here writes to the store.
"""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cmesh.cluster import (
    ClusterConfig,
    ObjKey,
    PolicyEnforcement,
    default_node_cidr,
    default_pod_cidr,
    plan_apply,
    validate,
)
from cmesh.datapath import Mesh, load_mesh
from cmesh.errors import InvalidArgument, InvalidCluster, InvalidManifest, InvalidPolicy
from cmesh.model import POLICY_KINDS, Resource, load_text
from cmesh.model.fields import FieldPath, FieldReader
from cmesh.model.source import render_path
from cmesh.policy import build_view, validate_all
from cmesh.registry import (
    ClusterRegistry,
    Home,
    bootstrap_manifest,
    read_sources,
    read_text_file,
)

MESH_FILE = "mesh.yaml"
#: Mesh-file setting names are ``cmesh config set`` names (ref §2.1, §2.12, §1.14).
SETTINGS = {
    "policy-enforcement": "policy_enforcement",
    "policy-default-local-cluster": "policy_default_local_cluster",
    "policy-audit-mode": "policy_audit_mode",
    "allow-localhost": "allow_localhost",
}

#: The values of the settings that are not true/false.
_CHOICES: dict[str, tuple[object, ...]] = {
    "policy_enforcement": tuple(p.value for p in PolicyEnforcement),
    "allow_localhost": ("auto", "always", "policy"),
}
MESH_FILE_HINT = "see docs/analysis.md, 'Where the clusters come from'"

Objects = dict[ObjKey, dict[str, Any]]


@dataclass
class LoadedMesh:
    """A mesh to analyse, with every cluster's objects (the semantic diff compares policies)."""

    mesh: Mesh
    objects: dict[str, Objects]
    description: str
    context: str = ""
    sources: dict[str, dict[ObjKey, str]] = field(default_factory=dict)

    def policies(self) -> dict[tuple[str, ObjKey], dict[str, Any]]:
        """Every policy object, by (cluster, key)."""
        return {
            (c, k): obj
            for c, objs in self.objects.items()
            for k, obj in objs.items()
            if k[0] in POLICY_KINDS
        }


def is_mesh_file(path: Path) -> bool:
    """A YAML file holding one mapping with ``clusters`` and no ``kind`` (or a folder with
    such a ``mesh.yaml``); anything else is manifests."""
    if path.is_dir():
        path = path / MESH_FILE
    if path.suffix.lower() not in (".yaml", ".yml") or not path.is_file():
        return False
    # Decided by the first document, read lazily: a folder of manifests whose file happens to be
    # called mesh.yaml is not parsed twice (the pure-Python parse of a 2k-pod file took 0.7 s).
    try:
        with path.open(encoding="utf-8") as fh:
            docs = yaml.safe_load_all(fh)
            first = next(docs, None)
            if not isinstance(first, dict) or "clusters" not in first or "kind" in first:
                return False
            return next(docs, None) is None
    except (yaml.YAMLError, OSError, UnicodeDecodeError):
        return False


def load_resources(paths: Sequence[str]) -> list[Resource]:
    """Parse and validate manifests (all errors at once, as ``cmesh apply`` reports them)."""
    resources: list[Resource] = []
    diags = []
    for name, text in read_sources(paths):
        res, d = load_text(text, name)
        resources += res
        diags += d
    InvalidManifest.raise_if_errors(diags)
    InvalidPolicy.raise_if_errors(list(validate_all(resources)))
    return resources


def _view_mesh(
    configs: Sequence[ClusterConfig],
    objects: Mapping[str, Objects],
    connected: Sequence[tuple[str, str]],
    sources: Mapping[str, Mapping[ObjKey, str]] | None = None,
    lines: Mapping[str, Mapping[ObjKey, Mapping[str, int]]] | None = None,
    typed: Mapping[str, Sequence[Resource]] | None = None,
) -> Mesh:
    """Each cluster's view, built as ``cmesh apply`` builds it; ``typed`` are the resources the
    analysis loaded, so its policies are not loaded a second time from their stored copies."""
    views = {
        cfg.name: build_view(
            cfg,
            objects[cfg.name],
            (sources or {}).get(cfg.name),
            (lines or {}).get(cfg.name),
            {r.key: r for r in (typed or {}).get(cfg.name, ()) if r.kind in POLICY_KINDS},
        )
        for cfg in configs
    }
    mesh = Mesh(views)
    for a, b in connected:
        mesh.connect(a, b)
    return mesh


def _plan(cfg: ClusterConfig, current: Objects, resources: Sequence[Resource]) -> Any:
    plan = plan_apply(cfg, current, resources)
    if not plan.ok:
        raise InvalidManifest(plan.diagnostics)
    return plan


def from_home(home: Home, context: str | None = None, *, fresh: bool = False) -> LoadedMesh:
    """The home's clusters.  ``fresh`` rebuilds every view and connects them in memory (what
    :func:`over_home` does too, so a diff of the two differs only by the manifests)."""
    return over_home(home, [], context, cached=not fresh)


def over_home(
    home: Home,
    resources: Sequence[Resource],
    context: str | None = None,
    *,
    cached: bool = False,
    description: str = "",
) -> LoadedMesh:
    """The home with ``resources`` applied to the ``context`` cluster, nothing written."""
    configs = home.clusters()
    if not configs:
        raise InvalidArgument(
            "the home has no cluster to analyse",
            hint="create one with `cmesh install`, or pass manifests or a mesh file",
        )
    target = home.cluster(context) if resources or context else None
    objects: dict[str, Objects] = {}
    sources: dict[str, dict[ObjKey, str]] = {}
    lines: dict[str, dict[ObjKey, Any]] = {}
    for cfg in configs:
        stored, _ = ClusterRegistry(home.store, cfg).stored()
        objects[cfg.name] = {k: s.obj for k, s in stored.items()}
        sources[cfg.name] = {k: s.source for k, s in stored.items()}
        lines[cfg.name] = {k: s.lines for k, s in stored.items()}
        if target is not None and cfg.name == target.name and resources:
            plan = _plan(cfg, objects[cfg.name], resources)
            objects[cfg.name] = plan.objects
            sources[cfg.name].update(plan.sources)
            lines[cfg.name].update(plan.lines)
    stored_mesh = load_mesh(home)
    if cached and not resources:
        mesh = stored_mesh
    else:
        pairs = sorted(
            {tuple(sorted((a, b))) for a, bs in stored_mesh.connected.items() for b in bs}
        )
        typed = {target.name: resources} if target is not None else {}
        mesh = _view_mesh(configs, objects, pairs, sources, lines, typed)  # type: ignore[arg-type]
        mesh.hosts = stored_mesh.hosts
    ctx = target.name if target else _current(home)
    return LoadedMesh(mesh, objects, description or "home", ctx, sources)


def _current(home: Home) -> str:
    """The current context's cluster, or "" when none is set and there are several."""
    try:
        return home.cluster(None).name
    except InvalidArgument:
        return ""


def node_count(resources: Sequence[Resource]) -> int:
    """Enough default nodes for the pods the manifests make (each node has a /24, kind's
    layout): about 200 pods a node, two nodes at least."""
    pods = 0
    for r in resources:
        if r.kind == "Pod":
            pods += 1
        elif r.kind in ("Deployment", "ReplicaSet", "StatefulSet"):
            replicas = (r.raw.get("spec") or {}).get("replicas")
            pods += 1 if replicas is None else int(replicas)
        elif r.kind in ("Job", "CronJob"):
            pods += 1
    return max(2, -(-pods // 200) + 1)


def standalone_config(resources: Sequence[Resource]) -> ClusterConfig:
    """The one cluster manifests alone make: ``default`` (id 1), roomy ranges, enough nodes."""
    return ClusterConfig(
        context="default",
        name="default",
        id=1,
        pod_cidr="100.64.0.0/10",
        service_cidr="100.127.0.0/16",
        node_cidr="172.31.0.0/16",
        nodes=node_count(resources),
    )


def standalone(resources: Sequence[Resource], description: str) -> LoadedMesh:
    """Manifests alone, as one cluster named ``default`` (id 1) with no bootstrap objects."""
    cfg = standalone_config(resources)
    plan = _plan(cfg, {}, resources)
    mesh = _view_mesh(
        [cfg],
        {cfg.name: plan.objects},
        [],
        {cfg.name: plan.sources},
        {cfg.name: plan.lines},
        {cfg.name: resources},
    )
    return LoadedMesh(
        mesh, {cfg.name: plan.objects}, description, cfg.name, {cfg.name: plan.sources}
    )


def _settings(r: FieldReader, v: Any, path: FieldPath) -> dict[str, Any]:
    """The settings as ClusterConfig fields, each checked (a quoted "false" is not false)."""
    out: dict[str, Any] = {}
    for key, value in r.mapping(v, path).items():
        if key not in SETTINGS:
            raise r.err(
                path,
                f"unknown setting {key!r}",
                "settings: " + ", ".join(sorted(SETTINGS)),
                at=(*path, key),
            )
        field_name = SETTINGS[key]
        choices = _CHOICES.get(field_name, (True, False))
        if value not in choices or isinstance(value, bool) is not isinstance(choices[0], bool):
            shown = ", ".join(str(c).lower() for c in choices)
            raise r.err((*path, key), f"expected {shown}, got {value!r}")
        out[field_name] = PolicyEnforcement(value) if field_name == "policy_enforcement" else value
    return out


_CLUSTER_FIELDS = {"name", "id", "settings", "bootstrap", "nodes", "manifests", "pod-cidr"}


def from_mesh_file(path: Path) -> LoadedMesh:
    """A full description: ``clusters`` (name, id, settings, bootstrap, manifests) and
    ``connected`` (pairs, or ``all``); manifest paths are relative to the file.  Every error
    names ``file:line`` and the field."""
    file = path / MESH_FILE if path.is_dir() else path
    text = read_text_file(file, "mesh file")
    r, data = FieldReader.document(text, str(file), "mesh file", MESH_FILE_HINT)
    r.fields(data, (), {"clusters", "connected", "dns"})
    clusters = r.items(data.get("clusters"), ("clusters",))
    if not clusters:
        raise r.err(("clusters",), "`clusters` must be a non-empty list")
    configs: list[ClusterConfig] = []
    objects: dict[str, Objects] = {}
    sources: dict[str, dict[ObjKey, str]] = {}
    lines: dict[str, dict[ObjKey, Any]] = {}
    typed: dict[str, list[Resource]] = {}
    for i, item in enumerate(clusters):
        cp: FieldPath = ("clusters", i)
        c = r.mapping(item, cp)
        r.fields(c, cp, _CLUSTER_FIELDS)
        name = r.text(c.get("name"), (*cp, "name"))
        if not name:
            raise r.err(cp, "each cluster needs a name")
        if any(x.name == name for x in configs):
            raise r.err(
                (*cp, "name"),
                f"cluster name {name!r} is used twice",
                "cluster names must be unique across the mesh (ref §3.2)",
            )
        cid = r.integer(c.get("id"), (*cp, "id"), i + 1)
        manifests = r.texts(c.get("manifests"), (*cp, "manifests"))
        paths = [str((file.parent / p).resolve()) for p in manifests]
        resources: list[Resource] = load_resources(paths) if paths else []
        pod_cidr = r.text(c.get("pod-cidr"), (*cp, "pod-cidr"))
        cfg = ClusterConfig(
            context=name,
            name=name,
            id=cid,
            pod_cidr=pod_cidr or default_pod_cidr(cid, [x.pod_cidr for x in configs]),
            node_cidr=default_node_cidr([x.node_cidr for x in configs]),
            nodes=r.integer(c.get("nodes"), (*cp, "nodes"), 0) or node_count(resources),
            **_settings(r, c.get("settings"), (*cp, "settings")),
        )
        try:  # the rules `cmesh install` applies (ref §3.2)
            validate(cfg, configs)
        except InvalidCluster as exc:
            raise InvalidCluster(
                f"{render_path(cp)}: {exc.message}", hint=exc.hint, where=r.where(cp)
            ) from None
        configs.append(cfg)
        if r.boolean(c.get("bootstrap"), (*cp, "bootstrap"), True):
            # what ``cmesh install`` creates in a fresh cluster (kube-dns, default/kubernetes)
            boot, _ = load_text(bootstrap_manifest(cfg), f"<bootstrap {cfg.name}>")
            resources = boot + resources
        plan = _plan(cfg, {}, resources)
        objects[cfg.name], sources[cfg.name], lines[cfg.name] = (
            plan.objects,
            plan.sources,
            plan.lines,
        )
        typed[cfg.name] = resources
    names = [cfg.name for cfg in configs]
    connected = _connected(r, data.get("connected"), names)
    mesh = _view_mesh(configs, objects, connected, sources, lines, typed)
    mesh.hosts = _hosts(r, data.get("dns"))
    return LoadedMesh(mesh, objects, str(path), names[0], sources)


def _connected(r: FieldReader, v: Any, names: list[str]) -> list[tuple[str, str]]:
    """``all``, or pairs of cluster names (ClusterMesh connections)."""
    if v == "all":
        return list(itertools.combinations(sorted(names), 2))
    hint = "write `connected: all` or pairs, e.g. [[cluster-1, cluster-2]]"
    pairs: list[tuple[str, str]] = []
    for j, p in enumerate(r.items(v, ("connected",))):
        pair = r.texts(p, ("connected", j)) if isinstance(p, list) else ()
        if len(pair) != 2 or not set(pair) <= set(names) or pair[0] == pair[1]:
            raise r.err(("connected", j), f"{p!r} must name two of {', '.join(names)}", hint)
        pairs.append((pair[0], pair[1]))
    return pairs


def _hosts(r: FieldReader, v: Any) -> dict[str, tuple[str, ...]]:
    """``dns``: the world's names and their IPv4 addresses."""
    out: dict[str, tuple[str, ...]] = {}
    for name, value in r.mapping(v, ("dns",), "a mapping of name to address").items():
        path: FieldPath = ("dns", str(name))
        ips = r.texts(value, path)
        for ip in ips:
            try:
                ipaddress.IPv4Address(ip)
            except ValueError:
                raise r.err(path, f"expected IPv4 addresses, got {ip!r}") from None
        out[str(name)] = ips
    return out


def load(
    spec: str, home: Home | None, context: str | None = None, *, fresh: bool = False
) -> LoadedMesh:
    """``HOME`` (or ``""``: the home as it is), a mesh file, or manifests over the home."""
    if spec in ("HOME", ""):
        if home is None:
            raise InvalidArgument(
                "no home to analyse: it has no store and no clusters",
                hint="create a cluster with `cmesh install`, or give manifests or a mesh file",
            )
        return from_home(home, context, fresh=fresh)
    path = Path(spec)
    if not path.exists():
        raise InvalidArgument(
            f'the path "{spec}" does not exist',
            hint="give a manifest file or folder, a mesh file, or HOME",
        )
    if is_mesh_file(path):
        return from_mesh_file(path)
    resources = load_resources([spec])
    if home is not None and home.clusters():
        return over_home(home, resources, context, description=f"{spec} over the home")
    return standalone(resources, spec)
