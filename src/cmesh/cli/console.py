"""The one console: data to stdout, diagnostics to stderr, colour only on a terminal."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cmesh.errors import Diagnostic, Severity

if TYPE_CHECKING:
    from rich.console import Console as RichConsole


def escape(text: str) -> str:
    """Escape rich markup (rich is imported only when something is printed)."""
    from rich.markup import escape as _escape

    return _escape(text)


@dataclass
class Console:
    quiet: bool = False
    color: str = "auto"  # auto | always | never
    _out: RichConsole | None = field(default=None, repr=False)
    _err: RichConsole | None = field(default=None, repr=False)

    def _make(self, stream: object) -> RichConsole:
        from rich.console import Console as RichConsole

        force = {"always": True, "never": False}.get(self.color)
        no_color = self.color == "never" or bool(os.environ.get("NO_COLOR"))
        return RichConsole(
            file=stream,  # type: ignore[arg-type]
            force_terminal=force,
            no_color=no_color,
            highlight=False,
            soft_wrap=True,
            emoji=False,
        )

    @property
    def out(self) -> RichConsole:
        if self._out is None:
            self._out = self._make(sys.stdout)
        return self._out

    @property
    def err(self) -> RichConsole:
        if self._err is None:
            self._err = self._make(sys.stderr)
        return self._err

    def print(self, text: str = "", *, style: str | None = None, markup: bool = False) -> None:
        """Data for the user (stdout)."""
        self.out.print(text if markup else escape(text), style=style)

    def raw(self, text: str) -> None:
        """Bytes-exact output (JSON, YAML): no wrapping, no markup."""
        sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")
        sys.stdout.flush()

    def info(self, text: str) -> None:
        if not self.quiet:
            self.err.print(escape(text))

    def warn(self, text: str) -> None:
        self.err.print(escape(text), style="yellow")

    def error(self, text: str) -> None:
        self.err.print(escape(text), style="red")

    def diagnostics(self, diags: list[Diagnostic]) -> None:
        for d in diags:
            if d.severity is Severity.WARNING:
                self.warn(d.render())
            else:
                self.error(d.render())
