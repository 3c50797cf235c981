"""The pydantic base of every typed resource, and the translation of its errors.

Models are frozen and strict (a string is never silently an integer: the API server would
refuse it too).  Resources keep fields they do not model (``extra="allow"``) so nothing the
user wrote is lost; :func:`unknown_fields` lists them for the strict-validation check that
kubectl performs (an error by default, a warning with ``--validate=warn``).

:func:`diagnostics_from` turns a :class:`pydantic.ValidationError` into located
:class:`~cmesh.errors.Diagnostic` values (``file:line: field.path: message``).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any, ClassVar

import pydantic
from pydantic import BaseModel, ConfigDict

from cmesh.errors import Diagnostic
from cmesh.model.source import Document, Path, render_path


class Model(BaseModel):
    """Base for user-facing types: strict, frozen, camelCase names as written in YAML."""

    check_unknown: ClassVar[bool] = True

    model_config = ConfigDict(
        extra="allow",
        frozen=True,
        strict=True,
        populate_by_name=True,
        hide_input_in_errors=True,
        revalidate_instances="never",
    )


class LenientModel(Model):
    """For Kubernetes kinds cmesh only reads part of: unknown fields are kept and never reported."""

    model_config = ConfigDict(extra="allow")
    check_unknown: ClassVar[bool] = False


def unknown_fields(model: BaseModel, path: Path = ()) -> Iterator[tuple[Path, str]]:
    """Every field present in the input but not part of the schema, with its path.

    Walks nested models, lists and dicts of models.  Models derived from :class:`LenientModel`
    are skipped (with everything under them).
    """
    if not getattr(model, "check_unknown", True):
        return
    for name in model.model_extra or {}:
        yield (*path, name), name
    for fname, key in field_keys(type(model)):
        yield from _unknown_in(getattr(model, fname), (*path, key))


@cache
def field_keys(cls: type[BaseModel]) -> tuple[tuple[str, str], ...]:
    """(attribute, key as written) per field of a model class (``model_fields`` is rebuilt on
    each access, and this walk visits every object of every manifest)."""
    return tuple((name, info.alias or name) for name, info in cls.model_fields.items())


def _unknown_in(value: Any, path: Path) -> Iterator[tuple[Path, str]]:
    if isinstance(value, BaseModel):
        yield from unknown_fields(value, path)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _unknown_in(item, (*path, i))
    elif isinstance(value, dict):
        for k, item in value.items():
            if isinstance(item, BaseModel):
                yield from unknown_fields(item, (*path, k))


_TYPE_WORDS = {
    "string_type": "expected a string",
    "int_type": "expected an integer",
    "int_parsing": "expected an integer",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "dict_type": "expected a mapping (key: value)",
    "list_type": "expected a list",
    "tuple_type": "expected a list",
    "model_type": "expected a mapping (key: value)",
    "model_attributes_type": "expected a mapping (key: value)",
    "float_type": "expected a number",
    "missing": "required field is missing",
    "too_long": "too many items",
    "greater_than_equal": "value too small",
    "less_than_equal": "value too large",
}


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return repr(value) if len(value) < 60 else repr(value[:57] + "...")
    return f"{value!r} ({type(value).__name__})"


def _lookup(data: Any, loc: tuple[Any, ...]) -> tuple[Path, Any, bool]:
    """Follow ``loc`` into ``data``; drop loc elements that are not data keys (union tags).

    Returns the data path, the value found there, and whether the whole loc resolved.
    """
    path: list[str | int] = []
    cur = data
    found = True
    for elem in loc:
        if (isinstance(cur, dict) and elem in cur) or (
            isinstance(cur, list) and isinstance(elem, int) and 0 <= elem < len(cur)
        ):
            cur = cur[elem]
            path.append(elem)
        elif isinstance(elem, str) and (elem[:1].isupper() or "[" in elem or elem in _UNION_TAGS):
            continue  # a union member or function-validator tag, not a field
        else:
            path.append(elem)
            found = False
            cur = None
    return tuple(path), cur, found


_UNION_TAGS = {"str", "int", "bool", "list", "dict", "float", "function-after", "function-before"}


def diagnostics_from(
    err: pydantic.ValidationError,
    doc: Document,
    *,
    prefix: Path = (),
    obj: str = "",
    code: str = "invalid-manifest",
) -> list[Diagnostic]:
    """Located diagnostics for every error of a validation, in document order."""
    out: list[Diagnostic] = []
    seen: set[tuple[Path, str]] = set()
    for e in err.errors(include_url=False):
        sub = doc.data
        for p in prefix:
            sub = sub[p]
        path, value, found = _lookup(sub, tuple(e["loc"]))
        full = (*prefix, *path)
        etype = e["type"]
        if etype in ("value_error", "assertion_error"):
            msg = str(e.get("ctx", {}).get("error", e["msg"]))
        elif etype == "literal_error":
            expected = str(e.get("ctx", {}).get("expected", "")).replace("'", "")
            msg = f"expected one of {expected}" + (f", got {_describe(value)}" if found else "")
        elif etype == "missing":
            msg = "required field is missing"
        elif etype in _TYPE_WORDS:
            msg = _TYPE_WORDS[etype]
            if found:
                msg += f", got {_describe(value)}"
        else:
            msg = e["msg"]
        hint = ""
        if (
            etype == "string_type"
            and isinstance(value, int | float)
            and not isinstance(value, bool)
        ):
            hint = f'quote the value: "{value}"'
        elif etype == "string_type" and isinstance(value, bool):
            hint = "quote the value: YAML reads unquoted true/false/yes/no/on/off as booleans"
        key = (full, msg)
        if key in seen:
            continue
        seen.add(key)
        line = doc.line_of(full) if found else doc.line_of(full[:-1])
        out.append(
            Diagnostic(
                msg, file=doc.file, line=line, path=render_path(full), hint=hint, obj=obj, code=code
            )
        )
    return out
