"""``cmesh connectivity test``, as the cilium CLI has it."""

from __future__ import annotations

import click

from cmesh.cli.options import State, context_option, junit_file_option, pass_state, write_report


@click.group()
def connectivity() -> None:
    """Connectivity tests."""


@connectivity.command("test")
@context_option
@click.option(
    "--multi-cluster", metavar="CONTEXT", help="Second cluster of the mesh to test across."
)
@click.option(
    "--test",
    "tests",
    multiple=True,
    metavar="REGEX",
    help="Run only matching tests; '!REGEX' excludes.",
)
@junit_file_option
@pass_state
def test_(
    state: State, multi_cluster: str | None, tests: tuple[str, ...], junit_file: str | None
) -> None:
    """Deploy a client/echo suite and check pod-to-pod, service, world and cross-cluster paths."""
    from cmesh.connectivity import junit, run_suite, summary
    from cmesh.errors import CmeshError

    report, ran = run_suite(state.home, state.context, multi_cluster, tests, state.console.print)
    for line in summary(report, ran):
        state.console.print(line)
    if junit_file:
        write_report(junit_file, junit(report, ran))
    if report.failed_tests():
        raise CmeshError(
            f"{len(report.failed_tests())} connectivity test(s) failed in {state.home.cluster(state.context).name}",
            hint="the ❌ lines above name each failed action; `cmesh policy trace` explains one "
            "flow, and --test NAME runs one test again",
        )
