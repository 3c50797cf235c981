"""Deploy the connectivity suite into a home's clusters and run it through the simulated datapath."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from cmesh.connectivity.suite import (
    DEPLOY,
    NS,
    REMOTE,
    TESTS,
    WORLD_IP,
    WORLD_NAME,
    Action,
    Report,
    Test,
    run_tests,
    select,
)


def _apply(home: Any, cfg: Any, text: str, *, delete: bool = False) -> None:
    from cmesh.datapath.load import warm
    from cmesh.model import load_text
    from cmesh.registry import ClusterRegistry, check

    res, diags = load_text(text, "<connectivity test>")
    check(diags)
    reg = ClusterRegistry(home.store, cfg)
    if delete:
        current = reg.objects()
        res = [r for r in res if r.key in current]
        if res:
            reg.delete(res)
    else:
        reg.apply(res)
    warm(home, cfg)


def deploy(home: Any, cfg: Any, multi_cfg: Any | None) -> None:
    from cmesh.datapath.load import HOSTS_PREFIX

    _apply(home, cfg, DEPLOY)
    if multi_cfg is not None:
        _apply(home, multi_cfg, REMOTE)
    home.store.put(HOSTS_PREFIX + WORLD_NAME, json.dumps([WORLD_IP]).encode())


def make_runner(
    home: Any, cfg: Any, multi_cfg: Any | None
) -> Callable[[Test, Action], tuple[bool, str]]:
    from cmesh.datapath.session import record, simulator
    from cmesh.datapath.tools import run
    from cmesh.datapath.tracer import find_pod

    cache: dict[str, Any] = {}

    def runner(test: Test, action: Action) -> tuple[bool, str]:
        if cache.get("test") != test.name:
            cache["test"] = test.name
            cache["sim"] = simulator(home)
        sim = cache["sim"]
        if action.src == "default-debug":
            src = find_pod(sim.mesh, cfg.name, "kube-system", "coredns")
        else:
            src = find_pod(sim.mesh, cfg.name, NS, action.src)
        target = action.target
        if target.endswith("-pod") or "-pod/" in target:
            name, _, path = target.partition("/")
            workload = name[: -len("-pod")]
            cluster = (
                multi_cfg.name
                if (workload == "echo-other-cluster" and multi_cfg is not None)
                else cfg.name
            )
            dst = find_pod(sim.mesh, cluster, NS, workload)
            target = f"http://{dst.ip}:8080/{path}"
        argv = ["curl", "-s", "-f", "-m", "3", target]
        result = run(sim, src, argv)
        record(home.store, sim)
        sim.flows.clear()
        ok = result.exit_code == 0
        detail = f"curl exited {result.exit_code}" + (
            f": {result.stderr.strip()}" if result.stderr.strip() else ""
        )
        return ok, detail

    return runner


def run_suite(
    home: Any,
    context: str | None,
    multi: str | None,
    patterns: Sequence[str],
    log: Callable[[str], None],
) -> tuple[Report, list[Test]]:
    cfg = home.cluster(context)
    multi_cfg = home.cluster(multi) if multi else None
    tests, skipped = select(TESTS, patterns, multi_cfg is not None)
    deploy(home, cfg, multi_cfg)
    runner = make_runner(home, cfg, multi_cfg)

    def per_test(test: Test, action: Action) -> tuple[bool, str]:
        if current.get("test") != test.name:
            if current.get("policies"):
                _apply(home, cfg, current["policies"], delete=True)
            current["test"] = test.name
            current["policies"] = test.policies
            if test.policies:
                _apply(home, cfg, test.policies)
        return runner(test, action)

    current: dict[str, Any] = {}
    started = time.perf_counter()
    report = run_tests(tests, multi_cfg is not None, per_test, log)
    if current.get("policies"):
        _apply(home, cfg, current["policies"], delete=True)
    report.skipped = skipped
    log(f"(suite ran in {time.perf_counter() - started:.1f}s)")
    return report, tests
