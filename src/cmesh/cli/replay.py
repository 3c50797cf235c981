"""``cmesh replay``: what recorded flows would do under the current or proposed policies."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from cmesh.cli.options import State, output_option, pass_state
from cmesh.errors import InvalidArgument


@contextmanager
def progress_bar(state: State, path: str, label: str) -> Iterator[Callable[[int], None] | None]:
    """A rich progress bar over the bytes of ``path`` — only on a terminal, and for a file."""
    if path == "-" or state.console.quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    size = Path(path).stat().st_size
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=state.console.err,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=size or None)
        with Path(path).open("rb") as fh:
            gz = fh.read(2) == b"\x1f\x8b"

        def advance(done: int) -> None:
            # gzip: bytes are counted decompressed; the bar is then only a hint
            bar.update(task, completed=min(done, size) if not gz else None)

        yield advance


@click.command()
@click.argument("flows", metavar="FLOWS")
@click.option(
    "--context",
    "context_",
    metavar="NAME",
    help="Replay the flows this cluster observed, against its policies (default: current).",
)
@click.option(
    "--all-clusters", is_flag=True, help="Replay every cluster's flows against its policies."
)
@click.option(
    "--policies",
    metavar="DIR",
    type=click.Path(exists=True),
    help="Proposed policies added to the current set (DIR/<cluster>/ for one cluster).",
)
@click.option(
    "--audit",
    type=click.Choice(["enforce", "report"]),
    default="enforce",
    show_default=True,
    help="Per-policy audited rules: evaluate them as enforced, or as audited (AUDIT).",
)
@output_option("txt", "json", "md", default="txt")
@pass_state
def replay(
    state: State,
    flows: str,
    context_: str | None,
    all_clusters: bool,
    policies: str | None,
    audit: str,
    output: str,
) -> None:
    """Replay recorded flows (hubble observe -o json, gzip ok, - for stdin) against the policies.

    Reports flows that were forwarded and would now be dropped (exit code 1) and flows that
    were dropped and would now pass, grouped by the deciding policy and rule.
    """
    from cmesh.replay import read_log, render_markdown, render_text, run_replay

    if all_clusters and context_:
        raise InvalidArgument("give --context or --all-clusters, not both")
    if flows != "-" and not Path(flows).exists():
        raise InvalidArgument(
            f'the flow log "{flows}" does not exist',
            hint="give a file written by `hubble observe -o json` (gzip ok), or - for stdin",
        )
    clusters = None if all_clusters else [state.home.cluster(context_ or state.context).name]
    with progress_bar(state, flows, "reading flows") as advance:
        log, stats = read_log(flows, advance)
    for line, err in stats.errors:
        state.console.warn(f"{stats.source}:{line}: skipped: {err}")
    run = run_replay(
        state.home, flows, clusters=clusters, policies=policies, audit=audit, log=log, stats=stats
    )
    if output == "json":
        state.console.raw(json.dumps(run.report.to_dict(), indent=2))
    elif output == "md":
        state.console.raw(render_markdown(run.report))
    else:
        state.console.print(render_text(run.report))
    if run.report.breaks:
        raise click.exceptions.Exit(1)
