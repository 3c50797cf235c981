"""Documents in, typed resources out: kind dispatch, namespaces, names, structural checks.

:func:`load` never raises for bad input; it returns every resource it could read and every
:class:`~cmesh.errors.Diagnostic` it found, so the caller can report all problems at once and
apply nothing (STYLE.md, "Errors").  Unknown kinds are skipped with a warning that names them.
"""

from __future__ import annotations

import copy
import difflib
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Literal

import pydantic

from cmesh.errors import Diagnostic, InvalidManifest, Severity
from cmesh.model.base import Model, diagnostics_from, field_keys, unknown_fields
from cmesh.model.kinds import KINDS, KindInfo
from cmesh.model.source import Document, Positions, iter_objects, parse_documents, render_path

UnknownFields = Literal["error", "warn", "ignore"]

_DNS1123_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")

#: Fields that appear in guides but are not Cilium; each with what to write instead (ref §7).
NOT_CILIUM: dict[str, str] = {
    "policyEnforcement": (
        "a CiliumNetworkPolicy has no per-policy enforcement mode (ref §7.1). For the whole "
        "cluster use `cmesh config set policy-enforcement always` (Helm policyEnforcementMode); "
        "in a rule, `enableDefaultDeny: {ingress: true, egress: true}` — already the default for "
        "every direction the rule has sections for"
    ),
}


@dataclass(frozen=True, slots=True)
class Source:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True, slots=True)
class Resource:
    """One object read from a manifest: typed view, the data as written, and where it came from."""

    info: KindInfo
    namespace: str
    name: str
    obj: Model
    raw: dict[str, Any]
    source: Source
    positions: Positions

    @property
    def kind(self) -> str:
        return self.info.kind

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.info.kind, self.namespace, self.name)

    @property
    def ref(self) -> str:
        """``CiliumNetworkPolicy default/allow-dns`` — how errors and explanations name it."""
        return (
            f"{self.kind} {self.namespace}/{self.name}"
            if self.namespace
            else f"{self.kind} {self.name}"
        )

    def line_of(self, path: tuple[str | int, ...]) -> int:
        return self.positions.line(path) or self.source.line


def load_text(
    text: str,
    file: str,
    *,
    namespace: str = "",
    unknown: UnknownFields = "error",
) -> tuple[list[Resource], list[Diagnostic]]:
    """Parse and type every object in one file's text (see :func:`load`)."""
    docs, diags = parse_documents(text, file)
    resources, more = load(docs, namespace=namespace, unknown=unknown)
    return resources, diags + more


def load(
    docs: Iterable[Document],
    *,
    namespace: str = "",
    unknown: UnknownFields = "error",
) -> tuple[list[Resource], list[Diagnostic]]:
    """Type every object of ``docs`` (``List`` kinds unfolded).

    ``namespace`` is the ``-n`` of the command: namespaced objects without one get it (or
    ``default``), and an object naming a different namespace is an error, as with kubectl.
    ``unknown`` decides what a field outside a policy's schema is (kubectl's strict validation).
    """
    resources: list[Resource] = []
    diags: list[Diagnostic] = []
    for top in docs:
        for doc in iter_objects(top):
            res, found = _load_one(doc, namespace, unknown)
            diags.extend(found)
            if res is not None:
                resources.append(res)
    return resources, diags


def _err(
    doc: Document, path: tuple[str | int, ...], msg: str, hint: str = "", obj: str = ""
) -> Diagnostic:
    return Diagnostic(
        msg, file=doc.file, line=doc.line_of(path), path=render_path(path), hint=hint, obj=obj
    )


def _load_one(
    doc: Document, namespace: str, unknown: UnknownFields, *, pruned: bool = False
) -> tuple[Resource | None, list[Diagnostic]]:
    """One object typed; ``pruned`` when it comes from the store, where unknown fields were
    already pruned at apply time (so the walk that finds them is skipped)."""
    data = doc.data
    if not isinstance(data, dict):
        return None, [
            _err(doc, (), "expected a Kubernetes object (a mapping with apiVersion and kind)")
        ]
    kind = data.get("kind")
    api_version = data.get("apiVersion")
    if not isinstance(kind, str) or not kind:
        return None, [
            _err(
                doc,
                ("kind",),
                "required field is missing" if kind is None else "expected a string",
                "every object needs `kind:` (e.g. Deployment)",
            )
        ]
    if not isinstance(api_version, str) or not api_version:
        return None, [
            _err(
                doc,
                ("apiVersion",),
                "required field is missing",
                "every object needs `apiVersion:` (e.g. apps/v1)",
            )
        ]
    info = KINDS.get(kind)
    if info is None:
        close = difflib.get_close_matches(kind, KINDS, n=1)
        hint = f"did you mean {close[0]}?" if close else "cmesh reads: " + ", ".join(sorted(KINDS))
        warn = Diagnostic(
            f"skipped {kind} ({api_version}): cmesh does not model this kind",
            file=doc.file,
            line=doc.line,
            hint=hint,
            code="unknown-kind",
            severity=Severity.WARNING,
        )
        return None, [warn]
    if api_version not in info.api_versions:
        return None, [
            _err(
                doc,
                ("apiVersion",),
                f"{kind} is not served as {api_version!r}",
                f"use apiVersion: {info.api_version}",
            )
        ]
    meta = data.get("metadata")
    if not isinstance(meta, dict):
        return None, [
            _err(
                doc,
                ("metadata",),
                "required field is missing" if meta is None else "expected a mapping (key: value)",
                "give the object `metadata: {name: ...}`",
            )
        ]
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        return None, [
            _err(
                doc,
                ("metadata", "name"),
                "required field is missing",
                f"every {kind} needs metadata.name",
            )
        ]
    obj_ns = meta.get("namespace")
    ns = ""
    diags: list[Diagnostic] = []
    if info.namespaced:
        if obj_ns is not None and not isinstance(obj_ns, str):
            diags.append(_err(doc, ("metadata", "namespace"), "expected a string"))
            obj_ns = None
        if obj_ns and namespace and obj_ns != namespace:
            diags.append(
                _err(
                    doc,
                    ("metadata", "namespace"),
                    f'the namespace from the object "{obj_ns}" does not match the namespace "{namespace}" given with -n',
                    "drop -n, or change metadata.namespace",
                )
            )
        ns = obj_ns or namespace or "default"
        if not _DNS1123_LABEL.match(ns):
            diags.append(
                _err(
                    doc,
                    ("metadata", "namespace"),
                    f"invalid namespace name {ns!r}",
                    "use lower-case letters, digits and '-' (at most 63)",
                )
            )
    ref = f"{kind} {ns}/{name}" if ns else f"{kind} {name}"
    pattern = _DNS1123_LABEL if kind in ("Namespace", "Service") else _DNS1123_SUBDOMAIN
    if not pattern.match(name) or len(name) > (63 if pattern is _DNS1123_LABEL else 253):
        diags.append(
            _err(
                doc,
                ("metadata", "name"),
                f"invalid name {name!r}",
                "use lower-case letters, digits, '-' (and '.' except for Namespaces and Services)",
                obj=ref,
            )
        )
    diags.extend(_check_labels(doc, ("metadata", "labels"), meta.get("labels"), ref))
    try:
        obj = info.model.model_validate(data)
    except pydantic.ValidationError as exc:
        diags.extend(diagnostics_from(exc, doc, obj=ref))
        return None, diags
    raw = dict(data)
    if info.policy and not pruned:
        found = list(unknown_fields(obj))
        if unknown != "ignore":
            diags.extend(_unknown(doc, obj, ref, unknown, found))
        # What the API server stores: unknown fields are pruned (structural schema).
        raw = _prune(data, [p for p, _ in found if p[:1] not in (("metadata",), ("status",))])
    if kind == "Service":
        diags.extend(_check_service(doc, data.get("spec") or {}, ref))
    if any(d.severity is Severity.ERROR for d in diags):
        return None, diags
    if info.namespaced:
        raw["metadata"] = {**meta, "namespace": ns}
    res = Resource(info, ns, name, obj, raw, Source(doc.file, doc.line), doc.positions)
    return res, diags


def _check_service(doc: Document, spec: dict[str, Any], ref: str) -> list[Diagnostic]:
    """What the API server's ValidateService refuses beyond the schema: the selector's labels,
    the ClusterIP's syntax, an ExternalName that is no DNS name, port names (required when
    there are several, unique, DNS labels) and a port/protocol given twice."""
    out = _check_labels(doc, ("spec", "selector"), spec.get("selector"), ref)
    ip = spec.get("clusterIP") or ""
    if ip and ip != "None":
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            out.append(
                _err(
                    doc,
                    ("spec", "clusterIP"),
                    f"invalid value {ip!r}: must be a valid IP address, (e.g. 10.9.8.7)",
                    "remove spec.clusterIP to let cmesh assign one, or None for a headless service",
                    obj=ref,
                )
            )
    if spec.get("type") == "ExternalName":
        name = str(spec.get("externalName") or "").removesuffix(".")
        if not name or len(name) > 253 or not _DNS1123_SUBDOMAIN.match(name):
            out.append(
                _err(
                    doc,
                    ("spec", "externalName"),
                    f"invalid value {spec.get('externalName')!r}: must be a lowercase DNS name",
                    "e.g. externalName: api.example.com",
                    obj=ref,
                )
            )
    ports = spec.get("ports") or []
    names: set[str] = set()
    seen: set[tuple[Any, Any]] = set()
    for i, port in enumerate(ports):
        if not isinstance(port, dict):
            continue
        name = port.get("name") or ""
        where = ("spec", "ports", i)
        if not name and len(ports) > 1:
            # A warning only: policy does not depend on it, and hand-written analysis inputs
            # (netpol-analyzer's among them) leave the names out.
            out.append(
                replace(
                    _err(
                        doc,
                        (*where, "name"),
                        "every port of a multi-port service needs a name; the API server "
                        "would refuse this Service",
                        "name each port, e.g. name: http",
                        obj=ref,
                    ),
                    severity=Severity.WARNING,
                )
            )
        elif name and (name in names or not _DNS1123_LABEL.match(name) or len(name) > 63):
            problem = "duplicate value" if name in names else "invalid value"
            out.append(
                _err(
                    doc,
                    (*where, "name"),
                    f"{problem} {name!r}",
                    "port names are unique lower-case DNS labels: letters, digits and '-'",
                    obj=ref,
                )
            )
        names.add(name)
        key = (port.get("port"), port.get("protocol") or "TCP")
        if key in seen:
            out.append(
                _err(
                    doc,
                    where,
                    f"duplicate value: port {key[0]}/{key[1]} is given twice",
                    "give each port/protocol once",
                    obj=ref,
                )
            )
        seen.add(key)
    return out


def _check_labels(
    doc: Document, path: tuple[str | int, ...], labels: Any, ref: str
) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    if not isinstance(labels, dict):
        return out
    for k, v in labels.items():
        if not isinstance(k, str):
            continue
        prefix, _, nm = k.rpartition("/")
        if (
            not _LABEL_NAME.match(nm)
            or len(nm) > 63
            or (prefix and not _DNS1123_SUBDOMAIN.match(prefix))
        ):
            out.append(
                _err(
                    doc,
                    (*path, k),
                    f"invalid label key {k!r}",
                    "keys are [prefix/]name: name up to 63 of [A-Za-z0-9-_.], starting and ending alphanumeric",
                    obj=ref,
                )
            )
        if isinstance(v, str) and (not _LABEL_VALUE.match(v) or len(v) > 63):
            out.append(
                _err(
                    doc,
                    (*path, k),
                    f"invalid label value {v!r}",
                    "values are up to 63 of [A-Za-z0-9-_.], starting and ending alphanumeric",
                    obj=ref,
                )
            )
    return out


def _prune(data: dict[str, Any], paths: list[tuple[str | int, ...]]) -> dict[str, Any]:
    if not paths:
        return dict(data)
    out = copy.deepcopy(data)
    for path in sorted(paths, key=len, reverse=True):
        cur: Any = out
        for elem in path[:-1]:
            cur = cur[elem]
        if isinstance(cur, dict):
            cur.pop(path[-1], None)
    return out


def _unknown(
    doc: Document,
    obj: Model,
    ref: str,
    mode: UnknownFields,
    found: list[tuple[tuple[str | int, ...], str]],
) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    sev = Severity.ERROR if mode == "error" else Severity.WARNING
    for path, name in found:
        if path[:1] in (("metadata",), ("status",)):
            continue
        hint = NOT_CILIUM.get(name, "")
        if not hint:
            parent = _model_at(obj, path[:-1])
            known = [key for _, key in field_keys(type(parent))] if parent is not None else []
            close = difflib.get_close_matches(name, known, n=1)
            hint = (
                f"did you mean {close[0]!r}?"
                if close
                else ("known fields here: " + ", ".join(known) if known else "")
            )
        if mode == "error":
            hint = (
                hint + "; " if hint else ""
            ) + "or apply with --validate=warn to ignore unknown fields"
        out.append(
            Diagnostic(
                f'unknown field "{name}"',
                file=doc.file,
                line=doc.line_of(path),
                path=render_path(path),
                hint=hint,
                obj=ref,
                code="unknown-field",
                severity=sev,
            )
        )
    return out


def _model_at(obj: Any, path: tuple[str | int, ...]) -> Model | None:
    cur: Any = obj
    for elem in path:
        if isinstance(elem, int):
            cur = cur[elem] if isinstance(cur, list) and elem < len(cur) else None
        elif isinstance(cur, pydantic.BaseModel):
            attr = next((f for f, key in field_keys(type(cur)) if key == elem), None)
            cur = getattr(cur, attr) if attr else None
        elif isinstance(cur, dict):
            cur = cur.get(elem)
        else:
            cur = None
    return cur if isinstance(cur, Model) else None


def from_stored(
    obj: dict[str, Any], source: str = "", lines: dict[str, int] | None = None
) -> Resource:
    """Re-type an object read back from the store (it was valid when applied).

    ``source`` is the ``file:line`` it was applied from and ``lines`` its field positions
    (``render_path`` form), so explanations can still point at the user's file.  Raises
    :class:`InvalidManifest` if it no longer loads.
    """
    file, _, line = source.rpartition(":")
    if not line.isdigit():
        file, line = source, "0"
    positions = Positions({_parse_path(k): v for k, v in (lines or {}).items()})
    doc = Document(file or "<store>", int(line), obj, positions)
    res, diags = _load_one(doc, "", "ignore", pruned=True)
    if res is None:
        raise InvalidManifest(
            diags,
            "an object applied earlier no longer loads (cmesh's checks changed since): fix it in "
            "its manifest and apply it again, or delete it",
        )
    return res


def _parse_path(text: str) -> tuple[str | int, ...]:
    out: list[str | int] = []
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", text):
        out.append(int(part[1:-1]) if part.startswith("[") else part)
    return tuple(out)


def positions_dict(res: Resource) -> dict[str, int]:
    return {render_path(k): v for k, v in res.positions.lines.items() if k}
