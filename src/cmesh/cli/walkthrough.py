"""The guide, step by step: each step runs a real ``cmesh`` command in-process and is checked.

Every step prints the command it stands for, so a user can repeat it by hand, then its output.
Checks compare what the guide says should happen with what happened; the final table lists
them and the demo fails when any check fails.
"""

from __future__ import annotations

import contextlib
import io
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import click

from cmesh.cli.console import Console
from cmesh.cli.render import table

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@dataclass(frozen=True)
class Result:
    rc: int
    stdout: str
    stderr: str


@dataclass
class Check:
    name: str
    expected: str
    actual: str
    ok: bool


@dataclass
class Walkthrough:
    home: Path
    console: Console = field(default_factory=Console)
    pause: bool = False
    checks: list[Check] = field(default_factory=list)

    # -- running commands -----------------------------------------------------------------
    def cmd(self, *args: str, show: bool = True) -> Result:
        """Run ``cmesh ARGS`` against the demo home, print the command and its output."""
        from cmesh.cli.main import cli

        shown = "cmesh " + " ".join(shlex.quote(a) for a in args)
        if show:
            self.console.print(f"$ {shown}", style="bold cyan")
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
        if show:
            if res.stdout.strip():
                self.console.print(res.stdout.rstrip())
            if res.stderr.strip():
                self.console.print(res.stderr.rstrip(), style="yellow" if res.rc == 0 else "red")
        return res

    def check(self, name: str, expected: str, actual: str, ok: bool) -> bool:
        self.checks.append(Check(name, expected, actual, ok))
        mark = "✅" if ok else "❌"
        self.console.print(f"{mark} {name}: {actual}", style="green" if ok else "red")
        return ok

    def section(self, title: str) -> None:
        if self.pause and self.checks:
            click.pause("\nPress any key for the next step…")
        self.console.print("")
        self.console.print(f"━━ {title} ━━", style="bold")

    # -- the walkthrough ------------------------------------------------------------------
    def run(self) -> bool:
        for step in self.steps():
            step()
        self.console.print("")
        rows = [("✅" if c.ok else "❌", c.name, c.expected, c.actual) for c in self.checks]
        self.console.print(table(("", "CHECK", "THE GUIDE SAYS", "WHAT HAPPENED"), rows))
        failed = sum(not c.ok for c in self.checks)
        self.console.print(
            f"\n{len(self.checks) - failed}/{len(self.checks)} checks passed",
            style="bold green" if not failed else "bold red",
        )
        return failed == 0

    def steps(self) -> list[Callable[[], None]]:
        return [self.install, self.workloads, self.policies_as_written]

    def install(self) -> None:
        self.section("Installing Cilium in each cluster")
        for i in (1, 2):
            r = self.cmd(
                "install",
                "--context",
                f"cluster-{i}",
                "--cluster-name",
                f"cluster-{i}",
                "--cluster-id",
                str(i),
                "--ipam",
                "kubernetes",
            )
            self.check(
                f"install cluster-{i}",
                f"cluster-{i} with id {i}",
                "installed" if r.rc == 0 else r.stderr.strip(),
                r.rc == 0,
            )
        for i in (1, 2):
            r = self.cmd("status", "--context", f"cluster-{i}")
            self.check(
                f"status cluster-{i}",
                "Cilium OK",
                "OK" if "Cilium:" in r.stdout else r.stderr,
                r.rc == 0,
            )

    def workloads(self) -> None:
        self.section("Global payment-service and the workloads, in both clusters")
        seed = EXAMPLES / "seed"
        for i in (1, 2):
            r = self.cmd(
                "apply",
                "-f",
                str(seed / "payment.yaml"),
                "-f",
                str(seed / "workloads.yaml"),
                "--context",
                f"cluster-{i}",
            )
            self.check(
                f"workloads in cluster-{i}",
                "applied",
                "applied" if r.rc == 0 else r.stderr.strip(),
                r.rc == 0,
            )
        for i in (1, 2):
            r = self.cmd("get", "pods", "-A", "-o", "wide", "--context", f"cluster-{i}")
            ips = [line.split()[6] for line in r.stdout.splitlines()[1:] if len(line.split()) > 6]
            ok = bool(ips) and all(ip.startswith(f"10.{i}.") for ip in ips)
            self.check(
                f"pod addresses in cluster-{i}",
                f"from 10.{i}.0.0/16",
                f"{len(ips)} pods, all in 10.{i}.0.0/16" if ok else ", ".join(ips),
                ok,
            )

    def policies_as_written(self) -> None:
        self.section("The guide's policies, as written")
        r = self.cmd("apply", "-f", str(EXAMPLES / "seed" / "policies"), "--context", "cluster-1")
        rejected = "policyEnforcement" in r.stderr
        self.check(
            "default-deny-all as written",
            "rejected by Cilium (unknown field)",
            "rejected: unknown field policyEnforcement" if rejected else "accepted",
            r.rc != 0 and rejected,
        )
