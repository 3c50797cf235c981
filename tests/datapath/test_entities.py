"""Node peers behind Services: the ``kubernetes`` Service's backend is the apiserver on the
control-plane node, so `toEntities: [kube-apiserver]` allows it (ref §1.4)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Cmesh
from tests.datapath.conftest import apply, ex, flows

API = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: client-egress, namespace: default}
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
  - toEndpoints: [{matchLabels: {io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns}}]
    toPorts: [{ports: [{port: "53", protocol: ANY}]}]
  - toEntities: [kube-apiserver]
    toPorts: [{ports: [{port: "6443", protocol: TCP}]}]
"""


def test_kubernetes_service_backend_is_the_kube_apiserver_entity_ref_1_4(
    mesh: Cmesh, tmp_path: Path
) -> None:
    apply(mesh, tmp_path, API)
    r = ex(mesh, "default/client", "nc", "-z", "-w", "2", "kubernetes.default", "443")
    assert r.exit_code == 0, r.stderr
    fwd = [f for f in flows(mesh, "cluster-1", "--to-port", "6443") if not f.get("is_reply")]
    assert fwd and fwd[-1]["verdict"] == "FORWARDED"
    assert "reserved:kube-apiserver" in fwd[-1]["destination"]["labels"]
    # Anything else outside the cluster stays denied: the node is not "world".
    assert ex(mesh, "default/client", "nc", "-z", "-w", "1", "203.0.113.9", "6443").exit_code == 1
