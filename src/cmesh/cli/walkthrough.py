"""The guide, step by step: each step runs a real ``cmesh`` command in-process and is checked.

Every step prints the command it stands for, so a user can repeat it by hand, then its output.
Each check records what the guide says, what real Cilium does (where the two differ the guide
is wrong, and the check says why), and what happened; the demo fails when what happened is not
what Cilium does.  The steps themselves live in :mod:`cmesh.cli.guide`.
"""

from __future__ import annotations

import contextlib
import io
import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from cmesh.cli.console import Console
from cmesh.cli.render import table

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@dataclass(frozen=True)
class Result:
    rc: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@dataclass
class Check:
    name: str
    guide: str
    cilium: str
    actual: str
    ok: bool


@dataclass
class Walkthrough:
    home: Path
    console: Console = field(default_factory=Console)
    pause: bool = False
    checks: list[Check] = field(default_factory=list)

    # -- running commands -----------------------------------------------------------------
    def cmd(self, *args: str, show: bool = True, quiet_output: bool = False) -> Result:
        """Run ``cmesh ARGS`` against the demo home, print the command and its output."""
        from cmesh.cli.main import cli

        if show:
            self.console.print(
                "$ cmesh " + " ".join(shlex.quote(a) for a in args), style="bold cyan"
            )
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = cli.main(
                    ["--home", str(self.home), "--color", "never", *args],
                    prog_name="cmesh",
                    standalone_mode=False,
                )
            except click.ClickException as exc:
                exc.show()
                rc = exc.exit_code
            except SystemExit as exc:
                rc = exc.code if isinstance(exc.code, int) else 1
        res = Result(int(rc or 0), out.getvalue(), err.getvalue())
        if show and not quiet_output:
            if res.stdout.strip():
                self.console.print(res.stdout.rstrip())
            if res.stderr.strip():
                self.console.print(res.stderr.rstrip(), style="yellow" if res.rc == 0 else "red")
            if res.rc:
                self.console.print(f"(exit code {res.rc})", style="dim")
        return res

    def say(self, text: str) -> None:
        self.console.print(text, style="italic")

    def check(self, name: str, guide: str, cilium: str, actual: str, ok: bool) -> bool:
        self.checks.append(Check(name, guide, cilium, actual, ok))
        self.console.print(
            f"{'✅' if ok else '❌'} {name}: {actual}", style="green" if ok else "red"
        )
        return ok

    def section(self, title: str) -> None:
        if self.pause and self.checks:
            click.pause("\nPress any key for the next step…")
        self.console.print("")
        self.console.print(f"━━ {title} ━━", style="bold")

    # -- the walkthrough ------------------------------------------------------------------
    def run(self) -> bool:
        from cmesh.cli.guide import steps

        for step in steps(self):
            step()
        self.console.print("")
        rows = [("✅" if c.ok else "❌", c.name, c.guide, c.cilium, c.actual) for c in self.checks]
        self.console.print(
            table(("", "CHECK", "THE GUIDE SAYS", "REAL CILIUM", "WHAT HAPPENED"), rows)
        )
        failed = sum(not c.ok for c in self.checks)
        self.console.print(
            f"\n{len(self.checks) - failed}/{len(self.checks)} checks behave as real Cilium does",
            style="bold green" if not failed else "bold red",
        )
        return failed == 0
