"""``cmesh connectivity test``: the cilium CLI's connectivity suite, against the simulated mesh.

A client/echo deployment goes into its own namespace (``cilium-test-1``) of the cluster — and
of a second cluster with ``--multi-cluster`` — then named tests apply a few policies each, run
actions (curl between pods, to services, to the world) and compare every outcome with what the
policy means.  Test names, output lines and JUnit follow cilium-cli (ref §6).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import re2

from cmesh.errors import InvalidArgument
from cmesh.l7.regex import compile_go, error_text

NS = "cilium-test-1"
WORLD_NAME = "one.one.one.one"
WORLD_IP = "1.1.1.1"

DEPLOY = f"""\
apiVersion: v1
kind: Namespace
metadata: {{name: {NS}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: client, namespace: {NS}}}
spec:
  replicas: 1
  template:
    metadata: {{labels: {{name: client, kind: client}}}}
    spec: {{containers: [{{name: client, image: cilium/alpine-curl}}]}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: client2, namespace: {NS}}}
spec:
  replicas: 1
  template:
    metadata: {{labels: {{name: client2, kind: client, other: client}}}}
    spec: {{containers: [{{name: client2, image: cilium/alpine-curl}}]}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: echo-same-node, namespace: {NS}}}
spec:
  replicas: 1
  template:
    metadata: {{labels: {{name: echo-same-node, kind: echo}}}}
    spec: {{containers: [{{name: echo, image: cilium/json-mock, ports: [{{name: http, containerPort: 8080}}]}}]}}
---
apiVersion: v1
kind: Service
metadata:
  name: echo-same-node
  namespace: {NS}
  annotations: {{service.cilium.io/global: "true"}}
spec:
  selector: {{name: echo-same-node}}
  ports: [{{name: http, port: 8080, targetPort: 8080}}]
"""

REMOTE = DEPLOY.replace("echo-same-node", "echo-other-cluster")


def _cnp(name: str, body: str) -> str:
    return f"apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {{name: {name}, namespace: {NS}}}\nspec:\n{body}"


@dataclass(frozen=True)
class Action:
    name: str
    src: str  # pod workload name in the test namespace
    target: str  # URL or "dig NAME"
    expect_ok: bool


@dataclass
class Test:
    name: str
    policies: str
    actions: Callable[[bool], list[Action]]
    multi: bool = False


def _base(multi: bool) -> list[Action]:
    acts = [
        Action("pod-to-pod", "client", "echo-same-node-pod", True),
        Action("pod-to-service", "client", f"http://echo-same-node.{NS}:8080/", True),
        Action("pod-to-world", "client", f"http://{WORLD_NAME}/", True),
    ]
    if multi:
        acts.append(Action("pod-to-pod-other-cluster", "client", "echo-other-cluster-pod", True))
    return acts


def _expect(acts: list[Action], **changes: bool) -> list[Action]:
    return [
        Action(a.name, a.src, a.target, changes.get(a.name.replace("-", "_"), a.expect_ok))
        for a in acts
    ]


DNS_EGRESS = "  - toEndpoints: [{matchLabels: {io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns}}]\n    toPorts: [{ports: [{port: '53', protocol: UDP}], rules: {dns: [{matchPattern: '*'}]}}]\n"

TESTS: list[Test] = [
    Test("no-policies", "", lambda m: _base(m)),
    Test(
        "allow-all-except-world",
        _cnp(
            "allow-all-except-world",
            "  endpointSelector: {}\n  ingress: [{fromEntities: [cluster]}]\n  egress:\n  - toEntities: [cluster]\n"
            + DNS_EGRESS,
        ),
        lambda m: _expect(_base(m), pod_to_world=False, pod_to_pod_other_cluster=False),
    ),
    Test(
        "client-egress",
        _cnp(
            "client-egress",
            "  endpointSelector: {matchLabels: {kind: client}}\n  egress:\n  - toEndpoints: [{matchLabels: {kind: echo}}]\n    toPorts: [{ports: [{port: '8080', protocol: TCP}]}]\n"
            + DNS_EGRESS,
        ),
        lambda m: _expect(_base(m), pod_to_world=False, pod_to_pod_other_cluster=False),
    ),
    Test(
        "echo-ingress",
        _cnp(
            "echo-ingress",
            "  endpointSelector: {matchLabels: {kind: echo}}\n  ingress:\n  - fromEndpoints: [{matchLabels: {kind: client}}]\n    toPorts: [{ports: [{port: '8080', protocol: TCP}]}]\n",
        ),
        lambda m: [
            *_base(m),
            Action(
                "pod-to-pod-from-other-namespace-pod", "default-debug", "echo-same-node-pod", False
            ),
        ],
    ),
    Test(
        "all-ingress-deny",
        _cnp("all-ingress-deny", "  endpointSelector: {}\n  ingress: [{}]\n"),
        lambda m: _expect(_base(m), pod_to_pod=False, pod_to_service=False),
    ),
    Test(
        "all-egress-deny",
        _cnp("all-egress-deny", "  endpointSelector: {}\n  egress: [{}]\n"),
        lambda m: _expect(
            _base(m),
            pod_to_pod=False,
            pod_to_service=False,
            pod_to_world=False,
            pod_to_pod_other_cluster=False,
        ),
    ),
    Test(
        "all-ingress-deny-knp",
        f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: all-ingress-deny, namespace: {NS}}}\nspec:\n  podSelector: {{}}\n  policyTypes: [Ingress]\n",
        lambda m: _expect(_base(m), pod_to_pod=False, pod_to_service=False),
    ),
    Test(
        "to-fqdns",
        _cnp(
            "to-fqdns",
            f"  endpointSelector: {{matchLabels: {{kind: client}}}}\n  egress:\n{DNS_EGRESS}  - toFQDNs: [{{matchName: {WORLD_NAME}}}]\n    toPorts: [{{ports: [{{port: '80', protocol: TCP}}]}}]\n",
        ),
        lambda m: _expect(
            _base(m), pod_to_pod=False, pod_to_service=False, pod_to_pod_other_cluster=False
        ),
    ),
    Test(
        "client-egress-l7",
        _cnp(
            "client-egress-l7",
            "  endpointSelector: {matchLabels: {kind: client}}\n  egress:\n  - toEndpoints: [{matchLabels: {kind: echo}}]\n    toPorts: [{ports: [{port: '8080', protocol: TCP}], rules: {http: [{method: GET, path: /}]}}]\n"
            + DNS_EGRESS,
        ),
        lambda m: [
            *_expect(_base(m), pod_to_world=False, pod_to_pod_other_cluster=False),
            Action("pod-to-pod-with-l7-denied-path", "client", "echo-same-node-pod/private", False),
        ],
    ),
    Test(
        "cluster-entity-multi-cluster",
        _cnp(
            "cluster-entity",
            "  endpointSelector: {matchLabels: {kind: client}}\n  egress:\n  - toEntities: [cluster]\n"
            + DNS_EGRESS,
        ),
        lambda m: _expect(_base(m), pod_to_world=False, pod_to_pod_other_cluster=False),
        multi=True,
    ),
]


@dataclass
class Outcome:
    test: str
    action: str
    ok: bool
    expected: bool
    detail: str
    seconds: float


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def failed_tests(self) -> list[str]:
        return sorted({o.test for o in self.outcomes if o.ok != o.expected})


def select(
    tests: Sequence[Test], patterns: Sequence[str], multi: bool
) -> tuple[list[Test], list[str]]:
    """``--test`` regexes as cilium-cli reads them (Go's RE2): ``!re`` excludes; positives must
    match one."""
    pos = [_test_regex(p) for p in patterns if not p.startswith("!")]
    neg = [_test_regex(p[1:]) for p in patterns if p.startswith("!")]
    chosen, skipped = [], []
    for t in tests:
        if (
            (pos and not any(p.search(t.name) for p in pos))
            or any(n.search(t.name) for n in neg)
            or (t.multi and not multi)
        ):
            skipped.append(t.name)
        else:
            chosen.append(t)
    return chosen, skipped


def _test_regex(pattern: str) -> Any:
    try:
        return compile_go(pattern)
    except re2.error as exc:
        raise InvalidArgument(
            f"--test {pattern!r}: {error_text(exc)}",
            hint="--test takes a regular expression (RE2) on test names, e.g. --test no-policies or '!to-fqdns'",
        ) from None


def junit(report: Report, tests: Sequence[Test]) -> str:
    from xml.sax.saxutils import escape, quoteattr

    cases = []
    for t in tests:
        outs = [o for o in report.outcomes if o.test == t.name]
        fails = [o for o in outs if o.ok != o.expected]
        body = "".join(
            f"<failure message={quoteattr(f'{o.action}: {o.detail}')}>{escape(o.detail)}</failure>"
            for o in fails
        )
        cases.append(
            f'<testcase name="{t.name}" classname="connectivity-test" time="{sum(o.seconds for o in outs):.3f}">{body}</testcase>'
        )
    cases += [
        f'<testcase name="{n}" classname="connectivity-test"><skipped/></testcase>'
        for n in report.skipped
    ]
    n_fail = len(report.failed_tests())
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuites><testsuite name="connectivity test" tests="{len(tests) + len(report.skipped)}" failures="{n_fail}" skipped="{len(report.skipped)}">{"".join(cases)}</testsuite></testsuites>\n'


def now() -> float:
    return time.perf_counter()


Runner = Callable[[Test, Action], tuple[bool, str]]


def run_tests(
    tests: Sequence[Test], multi: bool, runner: Runner, log: Callable[[str], None]
) -> Report:
    report = Report()
    log(f"🏃[{NS}] Running {len(tests)} tests ...")
    for i, t in enumerate(tests, 1):
        log(f"[=] [{NS}] Test [{t.name}] [{i}/{len(tests)}]")
        for a in t.actions(multi):
            start = now()
            ok, detail = runner(t, a)
            report.outcomes.append(Outcome(t.name, a.name, ok, a.expect_ok, detail, now() - start))
            mark = "." if ok == a.expect_ok else "❌"
            log(
                f"  [-] Scenario [{t.name}/{a.name}] {mark} {'' if ok == a.expect_ok else detail}".rstrip()
            )
    return report


def summary(report: Report, tests: Sequence[Test]) -> list[str]:
    actions = len(report.outcomes)
    failed = report.failed_tests()
    lines = ["", f"📋 Test Report [{NS}]"]
    if failed:
        lines.append(
            f"❌ {len(failed)}/{len(tests)} tests failed ({sum(o.ok != o.expected for o in report.outcomes)}/{actions} actions), {len(report.skipped)} tests skipped, 0 scenarios skipped:"
        )
        for name in failed:
            lines.append(f"Test [{name}]:")
            for o in report.outcomes:
                if o.test == name and o.ok != o.expected:
                    lines.append(f"  ❌ {o.action}: {o.detail}")
    else:
        lines.append(
            f"✅ [{NS}] All {len(tests)} tests ({actions} actions) successful, {len(report.skipped)} tests skipped, 0 scenarios skipped."
        )
    return lines
