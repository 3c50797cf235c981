"""Text in, documents out: YAML and JSON parsed with the line of every field.

A manifest file may hold several YAML documents (``---``), JSON, or a ``kind: List``.  Each
object becomes a :class:`Document` holding the plain data (dicts, lists, scalars, as
``sigs.k8s.io/yaml`` would produce them: YAML 1.1 booleans included) and a :class:`Positions`
table from field path to line, so every later error can say ``file:line: field.path``.

Parsing uses libyaml's composer (fast, C) and builds the values here; duplicate mapping keys are
an error, as kubectl's strict decoding makes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from cmesh.errors import Diagnostic

PathElem = str | int
Path = tuple[PathElem, ...]

try:  # pragma: no cover - depends on how PyYAML was built
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader

_CONSTRUCTOR = yaml.SafeLoader("")  # only its scalar constructors are used
_STR = "tag:yaml.org,2002:str"  # most scalars and keys: the node's text is the value


def render_path(path: Path) -> str:
    """``("spec", "ingress", 0, "toPorts")`` → ``spec.ingress[0].toPorts``.

    >>> render_path(("spec", "ingress", 0, "toPorts"))
    'spec.ingress[0].toPorts'
    """
    out = ""
    for elem in path:
        if isinstance(elem, int):
            out += f"[{elem}]"
        else:
            out += f".{elem}" if out else elem
    return out


@dataclass(slots=True)
class Positions:
    """Field path → 1-based line, relative to the file.  Unknown paths fall back to a parent."""

    lines: dict[Path, int] = field(default_factory=dict)

    def line(self, path: Path) -> int:
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), 0)

    def sub(self, prefix: Path) -> Positions:
        """Positions of the object found at ``prefix`` (used for items of a ``List``)."""
        n = len(prefix)
        return Positions({k[n:]: v for k, v in self.lines.items() if k[:n] == prefix})


@dataclass(frozen=True, slots=True)
class Document:
    """One object read from a file: its data, where it starts, and its field positions."""

    file: str
    line: int
    data: Any
    positions: Positions

    def line_of(self, path: Path) -> int:
        return self.positions.line(path) or self.line


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.diagnostics: list[Diagnostic] = []
        self.start_document()

    def start_document(self) -> None:
        """Alias bookkeeping is per document, as go-yaml's decoder keeps it."""
        self._seen: set[int] = set()  # collection nodes built so far (a repeat is an alias)
        self._open: set[int] = set()  # collection nodes being built (a repeat is recursion)
        self._decoded = 0
        self._aliased = 0
        self._alias_depth = 0

    def build(self, node: yaml.Node, path: Path, lines: dict[Path, int]) -> Any:
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            return self._collection(node, path, lines)
        if node.tag == _STR:
            return node.value
        ctor = _CONSTRUCTOR.yaml_constructors.get(node.tag)
        if ctor is None:
            # Unknown tags (e.g. !Ref): keep the text, as a string.
            return node.value
        return ctor(_CONSTRUCTOR, node)

    def _collection(self, node: yaml.Node, path: Path, lines: dict[Path, int]) -> Any:
        """A mapping or sequence; an alias is expanded, but a recursive anchor or an alias bomb
        ("billion laughs") is refused as go-yaml refuses them (``decode.go``)."""
        nid = id(node)
        if nid in self._open:
            raise _Aliasing("an anchor's value contains itself (a recursive alias)", node)
        alias = nid in self._seen
        self._seen.add(nid)
        self._decoded += 1
        if alias:
            self._alias_depth += 1
        if self._alias_depth:
            self._aliased += 1
            if (
                self._aliased > 100
                and self._decoded > 1000
                and self._aliased / self._decoded > _allowed_alias_ratio(self._decoded)
            ):
                raise _Aliasing("the document contains excessive aliasing", node)
        self._open.add(nid)
        try:
            return self._build_collection(node, path, lines)
        finally:
            self._open.discard(nid)
            if alias:
                self._alias_depth -= 1

    def _build_collection(self, node: yaml.Node, path: Path, lines: dict[Path, int]) -> Any:
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            explicit: set[Any] = set()  # keys written here; merged (<<) ones may be overridden
            for knode, vnode in node.value:
                if knode.tag == "tag:yaml.org,2002:merge":
                    merged = self.build(vnode, path, {})
                    for m in merged if isinstance(merged, list) else [merged]:
                        if isinstance(m, dict):
                            for k, v in m.items():
                                out.setdefault(k, v)
                    continue
                key = (
                    knode.value
                    if knode.tag == _STR and isinstance(knode, yaml.ScalarNode)
                    else self.build(knode, (*path, "<key>"), {})
                )
                if not isinstance(key, str | int | float | bool) or key is None:
                    key = str(key)
                if key in explicit:
                    self.diagnostics.append(
                        Diagnostic(
                            f"duplicate key {key!r}",
                            file=self.file,
                            line=knode.start_mark.line + 1,
                            path=render_path((*path, str(key))),
                            hint="remove one of the two entries; only one value can be kept",
                        )
                    )
                explicit.add(key)
                kpath = (*path, key if isinstance(key, str) else str(key))
                out[key] = self.build(vnode, kpath, lines)
                lines[kpath] = knode.start_mark.line + 1
            return out
        return [self.build(item, (*path, i), lines) for i, item in enumerate(node.value)]


class _Aliasing(Exception):
    """A document whose aliases cannot be expanded; it is reported and skipped."""

    def __init__(self, message: str, node: yaml.Node) -> None:
        super().__init__(message)
        self.line = node.start_mark.line + 1


def _allowed_alias_ratio(decoded: int) -> float:
    """go-yaml's ``allowedAliasRatio``: 99% of the nodes may come from aliases up to 400,000
    nodes, then down to 10% at 4,000,000."""
    if decoded <= 400_000:
        return 0.99
    if decoded >= 4_000_000:
        return 0.10
    return 0.99 - 0.89 * (decoded - 400_000) / 3_600_000


def parse_documents(text: str, file: str) -> tuple[list[Document], list[Diagnostic]]:
    """Parse every YAML/JSON document in ``text``.  Syntax errors become diagnostics.

    Empty documents are skipped.  A ``kind: List`` (or ``*List`` with ``items``) is *not*
    unfolded here; :func:`iter_objects` does that.
    """
    builder = _Builder(file)
    docs: list[Document] = []
    try:
        for node in yaml.compose_all(text, Loader=_Loader):
            if node is None:
                continue
            lines: dict[Path, int] = {}
            builder.start_document()
            try:
                data = builder.build(node, (), lines)
            except _Aliasing as exc:
                builder.diagnostics.append(
                    Diagnostic(
                        f"YAML: {exc}",
                        file=file,
                        line=exc.line,
                        hint="write the values out instead of through anchors and aliases",
                    )
                )
                continue
            if data is None:
                continue
            docs.append(Document(file, node.start_mark.line + 1, data, Positions(lines)))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        problem = exc.problem or "invalid YAML"
        context = f" ({exc.context})" if exc.context else ""
        builder.diagnostics.append(
            Diagnostic(
                f"YAML syntax error: {problem}{context}",
                file=file,
                line=line,
                hint="check indentation and quoting near this line (a tab, an unclosed quote "
                "or a missing ':' are the usual causes)",
            )
        )
    except yaml.YAMLError as exc:  # pragma: no cover - reader errors (bad bytes)
        builder.diagnostics.append(Diagnostic(f"cannot read as YAML: {exc}", file=file))
    return docs, builder.diagnostics


def iter_objects(doc: Document) -> Iterator[Document]:
    """Yield the objects of a document, unfolding ``kind: List`` (and ``XxxList``) recursively."""
    data = doc.data
    if (
        isinstance(data, dict)
        and isinstance(data.get("kind"), str)
        and data["kind"].endswith("List")
        and isinstance(data.get("items"), list)
    ):
        # A typed list (``NamespaceList``) may omit kind/apiVersion in its items; kubectl
        # fills them in from the list, and so do we.
        item_kind = data["kind"][: -len("List")]
        for i, item in enumerate(data["items"]):
            sub = doc.positions.sub(("items", i))
            if item_kind and isinstance(item, dict) and "kind" not in item:
                item = {"apiVersion": data.get("apiVersion", "v1"), "kind": item_kind, **item}
            yield from iter_objects(Document(doc.file, sub.lines.get((), doc.line), item, sub))
        return
    yield doc
