"""The one error hierarchy of cmesh.

Every error a user can act on derives from :class:`CmeshError` and carries a stable kebab-case
``code``, a message that says what went wrong, and where possible ``where`` (``file:line``, field
path) and a ``hint`` (what to do instead).  Subclasses are split by who must act (STYLE.md,
"Errors"): the user's input (:class:`InvalidInput` and its children), the environment
(:class:`StoreUnavailable`), a race (:class:`Conflict`).  The CLI maps each class to an exit code
in one table and prints the error once; anything that is not a ``CmeshError`` is a bug.

This module is a leaf: it imports nothing else of cmesh.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding about user input: what, where and what to do instead.

    ``file`` and ``line`` locate the document (``line`` is 1-based; 0 when unknown); ``path`` is
    the field path inside the object (``spec.ingress[0].toPorts``); ``obj`` names the object
    (``CiliumNetworkPolicy default/allow-dns``) when there is one.
    """

    message: str
    file: str = ""
    line: int = 0
    path: str = ""
    hint: str = ""
    obj: str = ""
    code: str = "invalid-manifest"
    severity: Severity = Severity.ERROR

    @property
    def where(self) -> str:
        if not self.file:
            return ""
        return f"{self.file}:{self.line}" if self.line else self.file

    def render(self) -> str:
        """``file:line: [obj] path: message (hint)`` on one line, the form users grep for."""
        head = ": ".join(p for p in (self.where, self.obj, self.path) if p)
        text = f"{head}: {self.message}" if head else self.message
        if self.severity is Severity.WARNING:
            text = f"warning: {text}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text


class CmeshError(Exception):
    """Root of every error a user can act on."""

    code = "cmesh-error"

    def __init__(self, message: str, *, hint: str = "", where: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.where = where

    def render(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text

    def __str__(self) -> str:
        return self.render()


class InvalidInput(CmeshError):
    """The user's input is wrong; nothing was changed."""

    code = "invalid-input"


class DiagnosticsError(InvalidInput):
    """Input with one or more located findings; reports all of them at once."""

    code = "invalid-manifest"

    def __init__(self, diagnostics: Sequence[Diagnostic], summary: str = "") -> None:
        self.diagnostics = tuple(diagnostics)
        errors = [d for d in self.diagnostics if d.severity is Severity.ERROR]
        first = errors[0] if errors else (self.diagnostics[0] if self.diagnostics else None)
        summary = summary or (
            f"{len(errors)} error(s) in the input; nothing was applied"
            if errors
            else "invalid input"
        )
        super().__init__(summary, hint=first.hint if first else "")

    def render(self) -> str:
        lines = [d.render() for d in self.diagnostics]
        lines.append(self.message)
        return "\n".join(lines)

    @classmethod
    def raise_if_errors(cls, diagnostics: Iterable[Diagnostic]) -> None:
        found = list(diagnostics)
        if any(d.severity is Severity.ERROR for d in found):
            raise cls(found)


class InvalidManifest(DiagnosticsError):
    """A manifest is not well-formed: YAML syntax, wrong type, missing field, unknown kind."""

    code = "invalid-manifest"


class InvalidPolicy(DiagnosticsError):
    """A policy is well-formed but Cilium would reject it (ref §1.2–§1.11)."""

    code = "invalid-policy"


class InvalidCluster(InvalidInput):
    """A cluster's configuration breaks Cilium's rules (ref §3.2): id, name, CIDRs."""

    code = "invalid-cluster"


class InvalidArgument(InvalidInput):
    """A command-line argument is malformed or inconsistent."""

    code = "invalid-argument"


class NotFound(CmeshError):
    """The named object, cluster or context does not exist."""

    code = "not-found"


class StoreUnavailable(CmeshError):
    """The kvstore cannot be reached or its file cannot be opened."""

    code = "store-unavailable"


class Conflict(CmeshError):
    """Someone else changed the same state first; retrying may succeed."""

    code = "conflict"


class Compacted(CmeshError):
    """A watch asked for a revision the store no longer keeps; relist and watch again."""

    code = "compacted"

    def __init__(self, requested: int, compact_revision: int) -> None:
        super().__init__(
            f"revision {requested} has been compacted (oldest kept: {compact_revision})",
            hint="list the prefix again and watch from the revision the list returned",
        )
        self.requested = requested
        self.compact_revision = compact_revision
