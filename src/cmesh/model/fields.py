"""Reading a small YAML file field by field: a test spec, a mesh file, a Prometheus rule file.

Every error says ``file:line: field.path: what`` and what to write instead, as manifest
errors do: the document is parsed with the line of every field (:mod:`cmesh.model.source`),
and each accessor checks the type before the value is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cmesh.errors import InvalidArgument
from cmesh.model.source import Positions, parse_documents, render_path

FieldPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class FieldReader:
    """Where a document came from, and the hint its errors end with."""

    file: str
    positions: Positions
    hint: str

    @classmethod
    def document(cls, text: str, file: str, what: str, hint: str) -> tuple[FieldReader, dict]:
        """The one mapping of ``text`` (``what`` names it in errors) and its reader."""
        docs, diags = parse_documents(text, file)
        for d in diags:  # YAML syntax: the first error, located
            raise InvalidArgument(d.message, where=d.where, hint=d.hint)
        if len(docs) != 1:
            raise InvalidArgument(
                f"expected one YAML document, found {len(docs)}",
                where=file,
                hint=f"a {what} is one YAML document; {hint}",
            )
        reader = cls(file, docs[0].positions, hint)
        return reader, reader.mapping(docs[0].data, (), f"a {what} (a mapping)")

    def where(self, path: FieldPath) -> str:
        line = self.positions.line(path)
        return f"{self.file}:{line}" if line else self.file

    def err(
        self, path: FieldPath, msg: str, hint: str = "", *, at: FieldPath | None = None
    ) -> InvalidArgument:
        """``at``: the field whose line to give, when it is not ``path`` itself."""
        text = f"{render_path(path)}: {msg}" if path else msg
        return InvalidArgument(
            text, where=self.where(path if at is None else at), hint=hint or self.hint
        )

    def mapping(self, v: Any, path: FieldPath, what: str = "a mapping") -> dict[str, Any]:
        if v is None:
            return {}
        if not isinstance(v, dict):
            raise self.err(path, f"expected {what}, got {kind_of(v)}")
        return v

    def items(self, v: Any, path: FieldPath) -> list[Any]:
        if v is None:
            return []
        if not isinstance(v, list):
            raise self.err(path, f"expected a list, got {kind_of(v)}")
        return v

    def text(self, v: Any, path: FieldPath, default: str = "") -> str:
        if v is None:
            return default
        if isinstance(v, dict | list):
            raise self.err(path, f"expected a string, got {kind_of(v)}")
        return str(v)

    def texts(self, v: Any, path: FieldPath) -> tuple[str, ...]:
        """A name or a list of names."""
        if isinstance(v, list):
            return tuple(self.text(x, (*path, i)) for i, x in enumerate(v))
        return (self.text(v, path),) if v is not None else ()

    def integer(self, v: Any, path: FieldPath, default: int) -> int:
        if v is None:
            return default
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.err(path, f"expected a number, got {kind_of(v)}")
        return v

    def boolean(self, v: Any, path: FieldPath, default: bool) -> bool:
        if v is None:
            return default
        if not isinstance(v, bool):
            raise self.err(path, f"expected true or false, got {kind_of(v)}")
        return v

    def fields(self, v: dict[str, Any], path: FieldPath, allowed: set[str]) -> None:
        unknown = sorted(map(str, set(v) - allowed))
        if unknown:
            raise self.err(
                path,
                f"unknown field(s) {', '.join(unknown)}",
                "fields here: " + ", ".join(sorted(allowed)),
                at=(*path, unknown[0]),
            )


def kind_of(v: Any) -> str:
    """How an error names a value of the wrong type."""
    return {dict: "a mapping", list: "a list", bool: "true/false", type(None): "nothing"}.get(
        type(v), f"{v!r}"
    )
