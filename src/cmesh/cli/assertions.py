"""``cmesh test SPEC.yaml``: check connectivity expectations, for CI (txt, json, JUnit XML).

Exit code 0 when every expectation holds, 1 when one fails (or the spec is invalid).  Each
failure names the expectation, the concrete flow, and the explanation ``policy trace`` gives.
"""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree as ET

import click

from cmesh.cli.options import (
    State,
    context_option,
    junit_file_option,
    output_option,
    pass_state,
    write_report,
)

MAX_SHOWN = 3  # failing flows named per expectation; the first is explained in full


def failure_lines(r: Any) -> list[str]:
    from cmesh.cli.tracefmt import trace_story

    lines = list(r.problems)
    for i, f in enumerate(r.failures[:MAX_SHOWN]):
        lines.append(f"flow {f.flow}: {f.verdict}, expected {r.expect}")
        if f.l7:
            lines.append(f"  {f.l7}")
        if f.trace is not None and i == 0:
            lines += [f"  {x}" for x in trace_story(f.trace).splitlines()]
    if len(r.failures) > MAX_SHOWN:
        lines.append(f"... and {len(r.failures) - MAX_SHOWN} more failing flow(s)")
    return lines


def result_dict(r: Any) -> dict[str, Any]:
    from cmesh.cli.tracefmt import trace_dict

    return {
        "name": r.name,
        "kind": r.kind,
        "expect": r.expect,
        "passed": r.passed,
        "flows": len(r.flows),
        "problems": r.problems,
        "failures": [
            {
                "flow": f.flow,
                "src": f.src,
                "dst": f.dst,
                "protocol": f.protocol.value,
                "port": f.port,
                "verdict": f.verdict,
                **({"l7": f.l7} if f.l7 else {}),
                **({"trace": trace_dict(f.trace)} if f.trace is not None else {}),
            }
            for f in r.failures
        ],
    }


def junit(spec_name: str, results: list[Any]) -> str:
    failed = sum(not r.passed for r in results)
    suites = ET.Element("testsuites", tests=str(len(results)), failures=str(failed))
    suite = ET.SubElement(
        suites, "testsuite", name=spec_name, tests=str(len(results)), failures=str(failed)
    )
    for r in results:
        case = ET.SubElement(suite, "testcase", classname=f"{spec_name}.{r.kind}", name=r.name)
        if not r.passed:
            lines = failure_lines(r)
            fail = ET.SubElement(case, "failure", message=lines[0] if lines else "failed")
            fail.text = "\n".join(lines)
        else:
            ET.SubElement(case, "system-out").text = f"{len(r.flows)} flow(s) checked"
    ET.indent(suites)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
    )


@click.command("test")
@click.argument("spec_file", metavar="SPEC.yaml")
@click.option(
    "--manifests",
    metavar="PATH",
    default="",
    help="A mesh file, or manifests applied over the home (default: the home as it is).",
)
@junit_file_option
@output_option("txt", "json", default="txt")
@context_option
@pass_state
def test(state: State, spec_file: str, manifests: str, junit_file: str | None, output: str) -> None:
    """Check connectivity expectations (allow/deny flows, policy coverage) against the clusters."""
    from cmesh.analysis.assertions import Checker
    from cmesh.analysis.spec import read_spec
    from cmesh.cli.meshsource import load

    state.exit_fast = True  # reads and prints only
    spec = read_spec(spec_file)
    lm = load(state, manifests)
    results = Checker(lm.mesh).run(spec)
    passed = sum(r.passed for r in results)
    failed = len(results) - passed
    if output == "json":
        data = {
            "spec": spec.name,
            "mesh": lm.description,
            "passed": passed,
            "failed": failed,
            "results": [result_dict(r) for r in results],
        }
        state.console.raw(json.dumps(data, indent=2))
    else:
        out = []
        for r in results:
            n = f"{len(r.flows)} flow(s)" if r.kind == "expectation" else r.kind
            out.append(f"{'PASS' if r.passed else 'FAIL'}  {r.name} ({n})")
            if not r.passed:
                out += [f"      {x}" for x in failure_lines(r)]
        out.append(f"{spec.name}: {passed} passed, {failed} failed")
        state.console.raw("\n".join(out))
    if junit_file:
        write_report(junit_file, junit(spec.name, results))
    if failed:
        click.get_current_context().exit(1)
