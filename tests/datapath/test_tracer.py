"""Naming a flow's ends for ``policy trace`` (``NS/POD``, JSONL query ends) and what a trace
says about the request it was asked about."""

from __future__ import annotations

import pytest

from cmesh.datapath import Mesh, load_mesh, parse_end, query_end, trace
from cmesh.datapath.l7trace import L7Query
from cmesh.errors import InvalidArgument, NotFound
from cmesh.policy import Protocol, Verdict
from cmesh.registry import Home
from tests.conftest import Cmesh

DB_CLOSED = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: db-closed}
spec:
  endpointSelector: {matchLabels: {app: database}}
  ingress: [{}]
"""


@pytest.fixture(scope="module")
def mesh(guide_home: Cmesh, tmp_path_factory: pytest.TempPathFactory) -> Mesh:
    f = tmp_path_factory.mktemp("p") / "db-closed.yaml"
    f.write_text(DB_CLOSED)
    guide_home("apply", "-f", str(f), "--context", "cluster-1")
    home = Home.open(guide_home.home)
    try:
        return load_mesh(home)
    finally:
        home.close()


@pytest.mark.parametrize(
    "end",
    [
        {"cluster": "cluster-9", "pod": "frontend"},
        {"cluster": "cluster-9", "node": "cluster-9-worker"},
        {"cluster": "cluster-9", "ip": "10.1.0.8"},
        {"cluster": "cluster-9", "service": "payment-service"},
    ],
    ids=["pod", "node", "ip", "service"],
)
def test_a_query_end_in_an_unknown_cluster_names_the_clusters(mesh: Mesh, end: dict) -> None:
    with pytest.raises(NotFound) as exc:
        query_end(mesh, end, "cluster-1", dst=True)
    assert exc.value.message == 'cluster "cluster-9" does not exist'
    assert exc.value.hint == "clusters: cluster-1, cluster-2"


def test_an_unknown_service_or_node_lists_what_there_is(mesh: Mesh) -> None:
    with pytest.raises(NotFound) as exc:
        parse_end(mesh, "svc:default/nope", "cluster-1")
    assert "payment-service" in exc.value.hint
    with pytest.raises(NotFound) as exc:
        query_end(mesh, {"node": "nope"}, "cluster-1", dst=False)
    assert "cluster-1-control-plane" in exc.value.hint


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        (L7Query(tls_sni="db.example"), "http"),
        (L7Query(http_path="/x"), "http"),
        (L7Query(http_path="/x", dns_name="db.example."), "dns"),
    ],
    ids=["tls-sni", "http", "dns-with-http"],
)
def test_a_request_keeps_its_kind_when_l3_drops_the_connection(
    mesh: Mesh, query: L7Query, kind: str
) -> None:
    """The ``l7`` of a trace names the request asked about (the DNS query when there is one,
    else HTTP(S)) whether the proxies decided it or L3/L4 dropped the connection first."""
    src = parse_end(mesh, "default/frontend", "cluster-1")
    open_ = trace(
        mesh, src, parse_end(mesh, "default/api", "cluster-1"), Protocol.TCP, 80, l7=query
    )
    dropped = trace(
        mesh, src, parse_end(mesh, "default/database", "cluster-1"), Protocol.TCP, 5432, l7=query
    )
    assert open_.flow.verdict is not Verdict.DROPPED and open_.l7.evaluated
    assert dropped.flow.verdict is Verdict.DROPPED and not dropped.l7.evaluated
    assert open_.l7.kind == dropped.l7.kind == kind


def test_a_query_header_without_a_colon_says_how_to_write_it() -> None:
    ok = {"http": {"headers": ["X-Debug: 1"]}}
    assert L7Query.from_query(ok).http_headers == (("X-Debug", "1"),)
    with pytest.raises(InvalidArgument) as exc:
        L7Query.from_query({"http": {"headers": ["X-Debug 1"]}})
    assert exc.value.message == "http.headers 'X-Debug 1': expected 'Name: value'"
