"""The steps of the walkthrough, in the guide's order (see :mod:`cmesh.cli.walkthrough`)."""

from __future__ import annotations

import json
from collections.abc import Callable

from cmesh.cli.walkthrough import EXAMPLES, Result, Walkthrough

C1, C2 = "cluster-1", "cluster-2"
#: curl prints the response's status code after the body (the guide's L7 tests read it).
WRITE_CODE = ("-w", " %{http_code}\\n")


def steps(w: Walkthrough) -> list[Callable[[], None]]:
    g = Guide(w)
    return [
        g.install,
        g.clustermesh,
        g.services,
        g.audit_first,
        g.policies_as_written,
        g.what_they_really_do,
        g.corrected,
        g.tests,
        g.hubble,
        g.monitoring,
    ]


class Guide:
    def __init__(self, w: Walkthrough) -> None:
        self.w = w
        self.seed = EXAMPLES / "seed"
        self.fixed = EXAMPLES / "corrected"

    def pod(self, cluster: str, selector: str, ns: str = "default") -> str:
        r = self.w.cmd(
            "get", "pods", "-n", ns, "-l", selector, "-o", "name", "--context", cluster, show=False
        )
        names = sorted(x.split("/", 1)[1] for x in r.stdout.split())
        return f"{ns}/{names[0]}" if names else f"{ns}/missing"

    def pod_ip(self, cluster: str, selector: str) -> str:
        r = self.w.cmd(
            "get", "pods", "-l", selector, "-o", "json", "--context", cluster, show=False
        )
        data = json.loads(r.stdout)
        items = data.get("items", [data])
        return sorted(i["status"]["podIP"] for i in items)[0]

    def trace(self, cluster: str, src: str, dst: str, port: int) -> dict:
        """Show the trace's story, then read its JSON (not shown) for the check."""
        args = ("policy", "trace", "--from", src, "--to", dst, "--port", str(port))
        self.w.cmd(*args, "--context", cluster)
        return self.w.cmd(*args, "-o", "json", "--context", cluster, show=False).json()

    def exec(self, cluster: str, pod: str, *argv: str) -> Result:
        """``cmesh exec --context CLUSTER POD -- ARGV``, as the guide's ``kubectl exec``."""
        return self.w.cmd("exec", "--context", cluster, pod, "--", *argv)

    def nc(self, cluster: str, pod: str, ip: str) -> Result:
        """Open a connection to the database port (5432) of ``ip``, giving up after 3 s."""
        return self.exec(cluster, pod, "nc", "-z", "-v", "-w", "3", ip, "5432")

    def check_blocked(self, name: str, guide: str, cilium: str, r: Result) -> None:
        self.w.check(name, guide, cilium, "connected" if r.rc == 0 else "timed out", r.rc != 0)

    def check_status(self, name: str, guide: str, cilium: str, r: Result, code: str) -> None:
        """The HTTP status curl printed last (``WRITE_CODE``) is ``code``."""
        words = r.stdout.split()
        got = words[-1] if r.rc == 0 and words else f"exit {r.rc}"
        self.w.check(name, guide, cilium, got, r.rc == 0 and r.stdout.strip().endswith(code))

    def check_audit_names_test_policy(self, name: str, guide: str, cilium: str, last: str) -> None:
        r = self.w.cmd(
            "hubble",
            "observe",
            "--context",
            C1,
            "--verdict",
            "AUDIT",
            "--print-policy-names",
            "--last",
            last,
        )
        named = "test-policy" in r.stdout
        self.w.check(name, guide, cilium, "test-policy" if named else r.stdout.strip()[:60], named)

    # -- Installing Cilium in each cluster ----------------------------------------------------------
    def install(self) -> None:
        w = self.w
        w.section("Installing Cilium in each cluster")
        for i, c in ((1, C1), (2, C2)):
            r = w.cmd(
                "install",
                "--context",
                c,
                "--cluster-name",
                c,
                "--cluster-id",
                str(i),
                "--ipam",
                "kubernetes",
            )
            w.check(
                f"install {c}",
                f"cluster {c}, id {i}",
                "installed with a unique id and pod CIDR",
                "installed" if r.rc == 0 else r.stderr.strip(),
                r.rc == 0,
            )
        for c in (C1, C2):
            r = w.cmd("status", "--context", c)
            w.check(
                f"cilium status {c}",
                "Cilium OK",
                "OK",
                "OK" if r.rc == 0 and "Cilium:" in r.stdout else "failed",
                r.rc == 0,
            )

    # -- Enabling ClusterMesh ---------------------------------------------------------------------
    def clustermesh(self) -> None:
        w = self.w
        w.section("Enabling ClusterMesh")
        for c in (C1, C2):
            w.cmd("clustermesh", "enable", "--context", c, "--service-type", "LoadBalancer")
        w.cmd("clustermesh", "connect", "--context", C1, "--destination-context", C2)
        for c, other in ((C1, C2), (C2, C1)):
            w.cmd("clustermesh", "status", "--context", c, "--wait")
            data = w.cmd("clustermesh", "status", "--context", c, "-o", "json", show=False).json()
            ready = any(r["name"] == other and r["ready"] for r in data["remote_clusters"])
            w.check(
                f"clustermesh status {c}",
                f"{other} connected, ready",
                f"{other} ready (config, nodes, endpoints, identities, services synced)",
                "ready" if ready else "not ready",
                ready,
            )

    # -- Configuring Global Services ----------------------------------------------------------------
    def services(self) -> None:
        w = self.w
        w.section("Global payment-service and the guide's workloads, in both clusters")
        w.say(
            "The guide deploys payment-service (global, shared) and the payment Deployment to both clusters; its policies also assume frontend, api, database and secure-service workloads (examples/seed/workloads.yaml). Each cluster already runs kube-dns."
        )
        for c in (C1, C2):
            w.cmd(
                "apply",
                "-f",
                str(self.seed / "payment.yaml"),
                "-f",
                str(self.seed / "workloads.yaml"),
                "--context",
                c,
            )
        r = w.cmd("get", "services", "-o", "wide", "--context", C1)
        line = next((x for x in r.stdout.splitlines() if x.startswith("payment-service")), "")
        both = "cluster-1: 3" in line and "cluster-2: 3" in line
        w.check(
            "payment-service backends",
            "endpoints in both clusters",
            "3 local + 3 remote backends (global and shared in both)",
            line.split("   ")[-1].strip() if line else "missing",
            both,
        )
        w.cmd("get", "pods", "-A", "-o", "wide", "--context", C2)

    # -- Test policies before enforcement ------------------------------------------------------------
    def audit_first(self) -> None:
        w = self.w
        w.section("Testing a policy before enforcing it (the guide's test-policy, audited)")
        w.say(
            "Cilium has no per-policy audit (ref §2.12, §7.3); cmesh implements the guide's policy.cilium.io/audit-mode annotation: what the policy would newly drop is reported as AUDIT and passes."
        )
        w.cmd("apply", "-f", str(self.seed / "policies" / "test-policy.yaml"), "--context", C1)
        r = self.exec(
            C1,
            self.pod(C1, "app=api,region=us-east-1"),
            "curl",
            "-s",
            "-m",
            "5",
            *WRITE_CODE,
            f"http://{self.pod_ip(C1, 'app=payment')}:8080/health",
        )
        w.check(
            "api -> payment under the audited test-policy",
            "violation logged, not enforced",
            "passes (200); the flow is AUDIT",
            "200" if r.rc == 0 else f"exit {r.rc}",
            r.rc == 0,
        )
        self.check_audit_names_test_policy(
            "AUDIT flow names test-policy",
            "review audit logs",
            "policy-verdict AUDITED BY test-policy",
            last="2",
        )
        r = self.exec(
            C1,
            self.pod(C1, "app=frontend"),
            "curl",
            "-s",
            "-m",
            "5",
            *WRITE_CODE,
            "http://payment-service/health",
        )
        w.check(
            "frontend -> payment under the audited test-policy",
            "allowed",
            "allowed by test-policy itself: FORWARDED",
            "200" if r.rc == 0 else f"exit {r.rc}",
            r.rc == 0,
        )

    # -- The guide's policies, as written ---------------------------------------------------------
    def policies_as_written(self) -> None:
        w = self.w
        pol = self.seed / "policies"
        w.section("The guide's policies, as written")
        # (policy, what the guide says, what Cilium does, the field named in the error, shown as)
        for name, guide, cilium, field, shown in (
            (
                "default-deny-all",
                "accepted; policyEnforcement: always",
                "rejected: Rule has no policyEnforcement (ref §7.1)",
                "policyEnforcement",
                "unknown field",
            ),
            (
                "mtls-required-policy",
                "accepted; fromRequires adds mTLS",
                "rejected: fromRequires removed in 1.19 (ref §1.9)",
                "fromRequires",
                "fromRequires",
            ),
        ):
            r = w.cmd("apply", "-f", str(pol / f"{name}.yaml"), "--context", C1)
            rejected = r.rc != 0 and field in r.stderr
            w.check(
                f"{name} as written",
                guide,
                cilium,
                f"rejected: {shown}" if rejected else "accepted",
                rejected,
            )
        valid = [
            "allow-frontend-to-payment",
            "allow-from-cluster-1",
            "restrict-cross-region-database-access",
            "api-http-policy",
            "allow-dns",
            "test-policy",
        ]
        for c in (C1, C2):
            args = [x for name in valid for x in ("-f", str(pol / f"{name}.yaml"))]
            r = w.cmd("apply", *args, "--context", c)
            w.check(
                f"the other six policies in {c}",
                "accepted",
                "accepted (valid CiliumNetworkPolicies)",
                _accepted(r),
                r.rc == 0,
            )

    def what_they_really_do(self) -> None:
        w = self.w
        w.section("What two of the accepted policies really do")
        t = self.trace(
            C1, f"{C2}/{self.pod(C2, 'app=frontend')}", f"{C1}/{self.pod(C1, 'app=payment')}", 8080
        )
        w.check(
            "frontend of cluster-2 -> payment of cluster-1 (as written)",
            "allowed: works across clusters",
            "dropped: no cluster label = local cluster only (ref §1.14)",
            f"{t['verdict']} {t.get('drop_reason') or ''}".strip(),
            t["verdict"] == "DROPPED",
        )
        t = self.trace(
            C1, self.pod(C1, "app=api,region=us-west-2"), self.pod(C1, "app=database"), 5432
        )
        ing = (t.get("ingress") or {}).get("verdict", "?")
        w.check(
            "api in us-west-2 -> database in us-east-1 (as written)",
            "denied: traffic stays in region",
            "database's ingress admits it: allow-from-cluster-1, allows are additive (ref §2.4)",
            f"ingress {ing}",
            ing == "FORWARDED",
        )
        eg = (t.get("egress") or {}).get("drop_reason")
        w.check(
            "allow-dns alone",
            "allows DNS",
            "also puts every pod of the namespace in egress default deny (ref §2.11)",
            f"api egress {eg or 'allowed'}",
            eg == "POLICY_DENIED",
        )

    # -- Corrected equivalents ----------------------------------------------------------------------
    def corrected(self) -> None:
        w = self.w
        w.section("Corrected equivalents (examples/corrected/)")
        notes = {
            "default-deny-all.yaml": "drop policyEnforcement: the empty ingress/egress elements already deny by default",
            "mtls-required-policy.yaml": "fromRequires -> labels in fromEndpoints, mTLS -> authentication: {mode: required}",
            "allow-frontend-to-payment.yaml": "name the clusters (io.cilium.k8s.policy.cluster In [cluster-1, cluster-2])",
            "restrict-cross-region-database-access.yaml": "add an ingressDeny for other regions: denies win over allows",
            "allow-required-egress.yaml": "the 'specific allow policies' the guide mentions after default-deny-all",
        }
        for f, why in notes.items():
            w.say(f"{f}: {why}")
        files = [x for f in notes for x in ("-f", str(self.fixed / f))]
        for c in (C1, C2):
            r = w.cmd("apply", *files, "--context", c)
            w.check(
                f"corrected policies in {c}",
                "-",
                "accepted",
                _accepted(r),
                r.rc == 0,
            )
        w.cmd("apply", "-f", str(self.fixed / "restricted-dns.yaml"), "--context", C1)
        w.cmd("dns", "add", "example.com", "93.184.216.34")

    # -- Testing Network Policies ----------------------------------------------------------------------
    def tests(self) -> None:
        w = self.w
        w.section("Testing the policies as the guide does")
        url = "http://payment-service.default.svc.cluster.local/health"
        r = w.cmd("run", "debug", "--context", C1, "--", "curl", "-s", "-m", "5", url)
        w.check(
            "debug pod -> payment-service /health",
            "200 from a backend",
            "times out: default-deny-all leaves the debug pod only DNS (exit 28)",
            f"exit {r.rc}",
            r.rc == 28,
        )
        r = w.cmd(
            "run",
            "debug",
            "--context",
            C1,
            "-l",
            "app=frontend",
            "--",
            "curl",
            "-s",
            "-m",
            "5",
            url,
        )
        w.check(
            "frontend-labelled debug pod -> payment-service /health",
            "200",
            "200 from a backend in cluster-1 or cluster-2",
            f"200 from {_answered_by(r) or 'none'}" if r.rc == 0 else f"exit {r.rc}",
            r.rc == 0,
        )
        fe = self.pod(C1, "app=frontend")
        for c, pod in ((C1, fe), (C2, self.pod(C2, "app=frontend"))):
            r = self.exec(c, pod, "curl", "-s", "-m", "5", "http://payment-service/health")
            w.check(
                f"frontend of {c} -> payment-service",
                "200",
                "200 (either cluster's backend)",
                f"answered by {_answered_by(r) or f'exit {r.rc}'}",
                r.rc == 0,
            )
        post = ("curl", "-s", *WRITE_CODE, "-X", "POST")
        as_json = ("-H", "Content-Type: application/json", "-d", '{"item":"test"}')
        r = self.exec(C1, fe, *post, "http://payment-service/api/v1/orders", *as_json)
        self.check_status(
            "POST payment-service/api/v1/orders",
            "filtered by api-http-policy",
            "200: api-http-policy selects app=api, not payment",
            r,
            "200",
        )
        r = self.exec(C1, fe, *post, "http://api:8080/api/v1/orders", *as_json)
        self.check_status(
            "POST api /api/v1/orders with JSON", "allowed", "200 (second HTTP rule)", r, "200"
        )
        r = self.exec(C1, fe, *post, "http://api:8080/api/v1/orders", "-d", "item=test")
        self.check_status(
            "POST api /api/v1/orders without JSON",
            "denied",
            "403 Access denied from the proxy (ref §1.10)",
            r,
            "403",
        )
        db1 = self.pod_ip(C1, "app=database")
        r = self.nc(C1, self.pod(C1, "app=api,region=us-east-1"), db1)
        w.check(
            "api of cluster-1 -> database:5432",
            "allowed",
            "allowed",
            "connected" if r.rc == 0 else f"exit {r.rc}",
            r.rc == 0,
        )
        self.check_blocked(
            "api of cluster-2 -> database of cluster-1",
            "blocked",
            "dropped at cluster-1's ingress (allow-from-cluster-1)",
            self.nc(C2, self.pod(C2, "app=api,region=us-east-1"), db1),
        )
        self.check_blocked(
            "cross-region api -> database (corrected)",
            "blocked",
            "dropped by the ingressDeny (POLICY_DENY)",
            self.nc(C1, self.pod(C1, "app=api,region=us-west-2"), db1),
        )
        self.check_blocked(
            "cross-region api -> the other cluster's database",
            "blocked",
            "the ingressDeny names the cluster key, so it covers every cluster",
            self.nc(C1, self.pod(C1, "app=api,region=us-west-2"), self.pod_ip(C2, "app=database")),
        )
        r = self.exec(C1, fe, "dig", "+short", "payment-service.default.svc.cluster.local")
        w.check(
            "DNS lookup allowed by allow-dns",
            "resolves",
            "NOERROR through the DNS proxy",
            r.stdout.strip() or f"exit {r.rc}",
            r.rc == 0 and bool(r.stdout.strip()),
        )
        r = self.exec(C1, "restricted/toolbox", "dig", "example.com")
        refused = "status: REFUSED" in r.stdout
        w.check(
            "DNS lookup outside a DNS rule",
            "-",
            "REFUSED by the DNS proxy (ref §1.10)",
            "REFUSED" if refused else r.stdout.strip()[:60],
            refused,
        )
        r = self.exec(
            C1, self.pod(C1, "app=client"), "curl", "-s", "-m", "5", "https://secure-service/"
        )
        w.check(
            "mTLS client -> secure-service (corrected)",
            "mutual TLS required",
            "first packet AUTH_REQUIRED, then allowed (same trust domain)",
            "200" if r.rc == 0 else f"exit {r.rc}",
            r.rc == 0,
        )
        sec_ip = self.pod_ip(C1, "app=secure-service")
        r = self.exec(C2, self.pod(C2, "app=client"), "curl", "-s", "-m", "5", f"https://{sec_ip}/")
        w.check(
            "mTLS across clusters",
            "-",
            "fails: no shared trust domain across ClusterMesh (ref §1.11)",
            "refused" if r.rc else "200",
            r.rc != 0,
        )

    # -- Monitoring: Hubble -------------------------------------------------------------------------
    def hubble(self) -> None:
        w = self.w
        w.section("Monitoring policy enforcement with Hubble")
        w.cmd("hubble", "enable", "--context", C1, "--ui")
        r = w.cmd("hubble", "observe", "--context", C1, "--verdict", "DROPPED", "--last", "8")
        w.check(
            "hubble observe --verdict DROPPED",
            "dropped flows",
            "policy-verdict DENIED and Policy denied drops",
            f"{len(r.stdout.splitlines())} flows",
            r.rc == 0 and "DROPPED" in r.stdout,
        )
        r = w.cmd("hubble", "observe", "--context", C1, "--to-label", "app=payment", "--last", "6")
        w.check(
            "hubble observe --to-label app=payment",
            "traffic to payment",
            "flows to payment pods",
            f"{len(r.stdout.splitlines())} flows",
            r.rc == 0 and "payment" in r.stdout,
        )
        self.check_audit_names_test_policy(
            "hubble observe --verdict AUDIT",
            "audit logs",
            "AUDIT flows naming test-policy",
            last="4",
        )

    def monitoring(self) -> None:
        w = self.w
        w.section("Metrics and the guide's alerts")
        r = w.cmd("metrics", "--context", C1, quiet_output=True)
        lines = [
            x
            for x in r.stdout.splitlines()
            if x.startswith(
                (
                    "cilium_drop_count_total",
                    "hubble_policy_verdicts_total",
                    "cmesh_policy_verdicts_total",
                    "cilium_policy_l7_total",
                )
            )
        ]
        w.console.print("\n".join(lines[:14]))
        has_drops = any(x.startswith("cilium_drop_count_total") for x in lines)
        w.check(
            "cilium_drop_count_total",
            "-",
            "exported with reason and direction",
            "present" if has_drops else "missing",
            has_drops,
        )
        missing = "cilium_policy_l4_denied_total" not in r.stdout
        w.check(
            "cilium_policy_l4_denied_total",
            "the metric to alert on",
            "does not exist (ref §7.4); use cilium_drop_count_total",
            "absent" if missing else "present",
            missing,
        )
        r = w.cmd(
            "metrics",
            "--context",
            C1,
            "--alerts",
            str(EXAMPLES / "monitoring" / "prometheus-rules.yaml"),
        )
        ok = r.rc == 0 and "HighDroppedPackets" in r.stdout and "PolicyDenyIncrease" in r.stdout
        w.check(
            "the guide's alerts (real metric)",
            "fire on drops",
            "evaluated: the demo's handful of drops stays below both thresholds",
            "evaluated, inactive" if ok and "firing" not in r.stdout else r.stdout.strip()[:60],
            ok and "firing" not in r.stdout,
        )


def _accepted(r: Result) -> str:
    return "accepted" if r.rc == 0 else r.stderr.strip()[:80]


def _answered_by(r: Result) -> str | None:
    """The cluster of the backend that answered (the demo's servers say it in a JSON body)."""
    if r.rc == 0 and r.stdout.startswith("{"):
        return str(json.loads(r.stdout).get("cluster", "?"))
    return None
