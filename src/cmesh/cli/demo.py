"""``cmesh demo``: the guide's walkthrough on a fresh home, each step printed as its command."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import click

from cmesh.cli.options import State, pass_state


@click.command()
@click.option(
    "--home", "demo_home", metavar="DIR", help="Run in DIR instead of a fresh temporary home."
)
@click.option("--keep", is_flag=True, help="Keep the home afterwards and print how to explore it.")
@click.option("--step", is_flag=True, help="Pause between steps.")
@pass_state
def demo(state: State, demo_home: str | None, keep: bool, step: bool) -> None:
    """Walk through the multi-cluster network policy guide, checked step by step."""
    from cmesh.cli.walkthrough import Walkthrough

    home = Path(demo_home) if demo_home else Path(tempfile.mkdtemp(prefix="cmesh-demo-"))
    try:
        ok = Walkthrough(home, console=state.console, pause=step).run()
    finally:
        if keep or demo_home:
            state.console.print(
                f"\nThe demo's home is kept: export CMESH_HOME={home}; cmesh config get-contexts"
            )
        else:
            shutil.rmtree(home, ignore_errors=True)
    if not ok:
        raise SystemExit(1)
