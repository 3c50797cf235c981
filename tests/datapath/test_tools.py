"""curl, dig, nslookup, nc and ping from simulated pods: parsed and answered as the real tools
(exit codes included), through DNS, load balancing, policy and the proxies (ref §2.4, §2.11)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SEED, Cmesh, guide_clusters
from tests.datapath.conftest import ex

POLICIES = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: db-only-api}
spec:
  endpointSelector: {matchLabels: {app: database}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: api}}]
    toPorts: [{ports: [{port: "5432", protocol: TCP}]}]
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: api-http}
spec:
  endpointSelector: {matchLabels: {app: api}}
  ingress:
  - toPorts:
    - ports: [{port: "8080", protocol: TCP}]
      rules:
        http:
        - {method: GET, path: "/api/v1/.*"}
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: client-dns}
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
  - toEndpoints: [{matchLabels: {io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns}}]
    toPorts:
    - ports: [{port: "53", protocol: UDP}]
      rules:
        dns: [{matchPattern: "**.cluster.local"}, {matchName: "example.com"}]
  - toFQDNs: [{matchName: "example.com"}]
    toPorts: [{ports: [{port: "443", protocol: TCP}, {port: "80", protocol: TCP}]}]
"""


@pytest.fixture(scope="module")
def home(guide_home: Cmesh, tmp_path_factory: pytest.TempPathFactory) -> Cmesh:
    f = tmp_path_factory.mktemp("p") / "p.yaml"
    f.write_text(POLICIES)
    guide_home("apply", "-f", str(f), "--context", "cluster-1")
    guide_home("dns", "add", "example.com", "93.184.216.34")
    guide_home("dns", "add", "other.example.org", "198.51.100.10")
    return guide_home


def test_curl_through_a_service_echoes_the_backend(home: Cmesh):
    r = ex(
        home,
        "default/frontend",
        "curl",
        "-s",
        "http://payment-service.default.svc.cluster.local/health",
    )
    assert r.exit_code == 0
    body = json.loads(r.stdout)
    assert (
        body["path"] == "/health"
        and body["pod"].startswith("payment-")
        and body["cluster"] in ("cluster-1", "cluster-2")
    )


def test_short_names_use_the_search_path(home: Cmesh):
    for url in ("http://payment-service/health", "http://payment-service.default/health"):
        assert ex(home, "default/frontend", "curl", "-s", url).exit_code == 0


def test_dropped_connection_times_out_exit_28(home: Cmesh):
    r = ex(home, "default/frontend", "curl", "-sS", "-m", "3", "http://database:5432/")
    assert r.exit_code == 28 and "timed out" in r.stderr.lower()


def test_unknown_name_exit_6(home: Cmesh):
    r = ex(home, "default/frontend", "curl", "-sS", "http://nope.default.svc.cluster.local/")
    assert r.exit_code == 6 and "Could not resolve host" in r.stderr


def test_l7_denial_is_403_and_fail_gives_22_ref_1_10(home: Cmesh):
    r = ex(
        home,
        "default/frontend",
        "curl",
        "-s",
        "-w",
        "%{http_code}",
        "-X",
        "POST",
        "http://api:8080/api/v1/x",
    )
    assert r.exit_code == 0 and r.stdout.endswith("403") and "Access denied" in r.stdout
    r = ex(home, "default/frontend", "curl", "-sf", "-X", "POST", "http://api:8080/api/v1/x")
    assert r.exit_code == 22
    r = ex(
        home,
        "default/frontend",
        "curl",
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "http://api:8080/api/v1/orders",
    )
    assert r.stdout == "200"


def test_nothing_listening_is_refused_exit_7(home: Cmesh):
    r = ex(
        home, "default/frontend", "curl", "-s", "http://api:8080/"
    )  # allowed by L7? path "/" is not
    assert r.exit_code == 0 and "Access denied" in r.stdout
    ip = json.loads(
        home("get", "pods", "-l", "app=payment", "-o", "json", "--context", "cluster-1").stdout
    )["items"][0]["status"]["podIP"]
    r = ex(home, "default/frontend", "curl", "-s", f"http://{ip}:9999/")
    assert r.exit_code == 7


def test_dig_answers_refused_and_nxdomain_ref_2_11(home: Cmesh):
    r = ex(home, "default/client", "dig", "payment-service.default.svc.cluster.local")
    assert "status: NOERROR" in r.stdout and "ANSWER SECTION" in r.stdout
    r = ex(home, "default/client", "dig", "other.example.org")
    assert "status: REFUSED" in r.stdout and r.exit_code == 0
    r = ex(home, "default/frontend", "dig", "+short", "no-such-host.example")
    assert r.stdout == ""
    r = ex(home, "default/frontend", "nslookup", "no-such-host.example")
    assert r.exit_code == 1 and "NXDOMAIN" in r.stdout


def test_tofqdns_needs_the_dns_proxy_to_learn_ref_2_11(home: Cmesh):
    # the client's egress allows example.com only once its DNS proxy has seen the answer
    r = ex(home, "default/client", "curl", "-s", "-m", "2", "https://93.184.216.34/")
    assert r.exit_code == 28
    r = ex(home, "default/client", "curl", "-s", "-m", "2", "https://example.com/")
    assert r.exit_code == 0, r.stderr
    r = ex(home, "default/client", "curl", "-s", "-m", "2", "http://other.example.org/")
    assert r.exit_code == 6  # REFUSED by the DNS proxy: the name never resolves


def test_refused_search_expansion_stops_the_lookup_ref_2_8(home: Cmesh, tmp_path):
    """With ndots:5, "example.com" is first asked as example.com.default.svc.cluster.local.;
    a DNS rule that refuses that stops the resolver (glibc treats REFUSED as final), which is
    why Cilium's docs ask for the full search-path forms to be allowed (ref §2.8)."""
    strict = (
        POLICIES.split("---")[2]
        .replace('matchPattern: "**.cluster.local"', 'matchPattern: "*.*.svc.cluster.local"')
        .replace("client-dns", "client-dns")
    )
    f = tmp_path / "strict.yaml"
    f.write_text(strict)
    home("apply", "-f", str(f), "--context", "cluster-1")
    try:
        assert (
            ex(home, "default/client", "curl", "-s", "-m", "2", "https://example.com/").exit_code
            == 6
        )
        assert (
            ex(home, "default/client", "curl", "-s", "-m", "2", "https://example.com./").exit_code
            == 0
        )
    finally:
        f.write_text(POLICIES.split("---")[2])
        home("apply", "-f", str(f), "--context", "cluster-1")


def test_nc_and_ping(home: Cmesh):
    assert ex(home, "default/api", "nc", "-z", "-w", "2", "database", "5432").exit_code == 0
    assert ex(home, "default/frontend", "nc", "-z", "-w", "2", "database", "5432").exit_code == 1
    r = ex(home, "default/frontend", "ping", "-c", "2", "payment-service.default.svc.cluster.local")
    assert "2 packets transmitted" in r.stdout


def test_cross_cluster_curl_reaches_remote_backends(home: Cmesh):
    seen = set()
    for pod in ("default/frontend", "default/api", "default/client", "default/secure-service"):
        r = ex(home, pod, "curl", "-s", "http://payment-service/health")
        if r.exit_code == 0:
            seen.add(json.loads(r.stdout)["cluster"])
    assert seen  # answered; with a global shared service both clusters have backends


def test_run_creates_and_deletes_a_debug_pod(home: Cmesh):
    r = home(
        "run",
        "dbg",
        "--context",
        "cluster-2",
        "--",
        "curl",
        "-s",
        "http://payment-service/health",
        ok=False,
    )
    assert r.exit_code == 0 and 'pod "dbg" deleted' in r.stderr
    assert "dbg" not in home("get", "pods", "--context", "cluster-2").stdout


def test_unknown_tool_and_bad_option(home: Cmesh):
    r = ex(home, "default/frontend", "wget", "http://x/")
    assert r.exit_code == 1 and "not found in the simulated pod" in r.stderr
    r = ex(home, "default/frontend", "curl", "--bogus", "http://x/")
    assert r.exit_code == 2


@pytest.mark.parametrize(
    ("cmd", "code", "err"),
    [
        (("nc", "-z", "-w", "soon", "database", "5432"), 1, "nc: timeout invalid: soon"),
        (("ping", "-c", "x", "api"), 2, "ping: invalid argument: 'x'"),
        (("ping", "-c", "0", "api"), 2, "ping: invalid argument: '0'"),
        (("ping", "-W", "long", "api"), 2, "ping: invalid argument: 'long'"),
    ],
    ids=["nc-w", "ping-c", "ping-c-0", "ping-W"],
)
def test_a_bad_number_is_the_tools_own_usage_error(home: Cmesh, cmd, code, err):
    r = ex(home, "default/api", *cmd)
    assert (r.exit_code, r.stderr.strip()) == (code, err)


BAD_PORT = "curl: (3) URL rejected: Port number was not a decimal number between 0 and 65535"


@pytest.mark.parametrize(
    ("args", "err"),
    [
        (("http://payment-service:99999/",), BAD_PORT),
        (("http://payment-service:web/",), BAD_PORT),
        (("http://",), "curl: (3) URL rejected: No host part in the URL"),
        (("http://[zz]/",), "curl: (3) URL rejected: Bad IPv6 address"),
        (("-s", "http://payment-service:99999/"), ""),
        (("-sS", "http://payment-service:99999/"), BAD_PORT),
        (("-s", "ftp://payment-service/"), ""),
    ],
    ids=[
        "port-range",
        "port-name",
        "no-host",
        "bad-ipv6",
        "silent",
        "silent-show-error",
        "silent-scheme",
    ],
)
def test_a_url_curl_rejects_is_exit_3_not_a_traceback(home: Cmesh, args, err):
    """curl refuses a URL with a bad port or no host before any connection (exit 3, the
    message unless -s without -S); the simulated curl raised on it."""
    r = ex(home, "default/frontend", "curl", *args)
    assert (r.exit_code, r.stderr.strip()) == (1 if "ftp" in args[-1] else 3, err)


HEADLESS = """\
apiVersion: v1
kind: Service
metadata: {name: database-pods, namespace: default}
spec:
  clusterIP: None
  selector: {app: database}
  ports: [{name: postgres, port: 5432}]
"""


def test_dig_of_a_headless_service_answers_its_pods_not_a_cluster_ip(cmesh: Cmesh, manifest):
    """``clusterIP: None`` is no address: the name resolves to the selected pods' IPs, while
    the Service with a ClusterIP over the same pods answers that one address."""
    c = guide_clusters(
        cmesh, SEED / "workloads.yaml", manifest("h.yaml", HEADLESS), n=1, connect=False
    )
    wide = c("get", "pods", "--context", "cluster-1", "-o", "wide").stdout.splitlines()
    pods = sorted(line.split()[5] for line in wide if line.startswith("database-"))
    svcs = c("get", "svc", "--context", "cluster-1").stdout.splitlines()
    cluster_ip = next(line.split()[2] for line in svcs if line.startswith("database "))
    dig = ("dig", "+short")
    headless = ex(c, "default/frontend", *dig, "database-pods.default.svc.cluster.local")
    assert headless.exit_code == 0 and sorted(headless.stdout.split()) == pods != []
    plain = ex(c, "default/frontend", *dig, "database.default.svc.cluster.local")
    assert plain.stdout.split() == [cluster_ip] and cluster_ip.startswith("10.96.")
