"""Apply planning: workloads, scheduling, addresses, identities (pure)."""

import ipaddress

from cmesh.cluster import ClusterConfig, Inventory, plan_apply, plan_delete
from cmesh.errors import Severity
from cmesh.model import load_text

CFG = ClusterConfig(
    context="c1", name="c1", id=1, pod_cidr="10.1.0.0/16", node_cidr="172.18.0.0/24"
)

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 3
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
"""


def resources(text):
    res, diags = load_text(text, "t.yaml")
    assert not [d for d in diags if d.severity is Severity.ERROR]
    return res


def test_deployment_becomes_pods_with_addresses_in_node_cidrs():
    plan = plan_apply(CFG, {}, resources(DEPLOY))
    inv = Inventory.build(plan.objects)
    assert len(inv.pods) == 3
    assert set(inv.namespaces) == {"shop"}
    assert len(inv.nodes) == 2  # default nodes appear with the first pod
    for p in inv.pods.values():
        node = inv.nodes[p.node]
        assert ipaddress.ip_address(p.ip) in ipaddress.ip_network(node.pod_cidr)
        assert ipaddress.ip_network(node.pod_cidr).subnet_of(ipaddress.ip_network(CFG.pod_cidr))
        assert p.workload_kind == "Deployment" and p.workload_name == "web"
        assert p.named_port("http").port == 8080
    assert len({p.ip for p in inv.pods.values()}) == 3


def test_reapply_is_a_no_op_and_keeps_addresses():
    first = plan_apply(CFG, {}, resources(DEPLOY)).objects
    second = plan_apply(CFG, first, resources(DEPLOY)).objects
    assert first == second


def test_scaling_keeps_existing_pods():
    first = plan_apply(CFG, {}, resources(DEPLOY)).objects
    more = plan_apply(CFG, first, resources(DEPLOY.replace("replicas: 3", "replicas: 5"))).objects
    before = {k: v["status"]["podIP"] for k, v in first.items() if k[0] == "Pod"}
    after = {k: v["status"]["podIP"] for k, v in more.items() if k[0] == "Pod"}
    assert len(after) == 5 and all(after[k] == ip for k, ip in before.items())


def test_real_pods_owned_by_a_workload_prevent_expansion():
    real = """\
apiVersion: v1
kind: Pod
metadata:
  name: web-abc-1
  namespace: shop
  labels: {app: web, pod-template-hash: abc}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-abc, controller: true}]
spec: {nodeName: real-node, containers: [{name: c}]}
status: {podIP: 10.1.7.9}
"""
    plan = plan_apply(CFG, {}, resources(DEPLOY + "---\n" + real))
    inv = Inventory.build(plan.objects)
    assert list(inv.pods) == [("shop", "web-abc-1")]
    pod = inv.pods[("shop", "web-abc-1")]
    assert (pod.ip, pod.node) == ("10.1.7.9", "real-node")
    assert (pod.workload_kind, pod.workload_name) == ("Deployment", "web")


def test_pod_ip_outside_pod_cidr_is_reported():
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: []}\nstatus: {podIP: 192.168.1.5}\n"
    plan = plan_apply(CFG, {}, resources(pod))
    assert any(d.code == "ip-outside-pod-cidr" for d in plan.diagnostics)
    assert plan.ok


def test_duplicate_pod_ips_are_an_error():
    pods = "".join(
        f"---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}}}\nspec: {{}}\nstatus: {{podIP: 10.1.0.9}}\n"
        for i in range(2)
    )
    assert not plan_apply(CFG, {}, resources(pods)).ok


def test_services_get_cluster_ips_and_keep_given_ones():
    svc = "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: [{port: 80}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: b}\nspec: {clusterIP: 10.96.0.50, ports: [{port: 80}]}\n"
    inv = Inventory.build(plan_apply(CFG, {}, resources(svc)).objects)
    assert inv.services[("default", "b")].cluster_ip == "10.96.0.50"
    assert ipaddress.ip_address(inv.services[("default", "a")].cluster_ip) in ipaddress.ip_network(
        CFG.service_cidr
    )


def test_identities_shared_by_same_labels_ref_2_10():
    objs = plan_apply(CFG, {}, resources(DEPLOY)).objects
    idents = [k for k in objs if k[0] == "CiliumIdentity"]
    assert [k[2] for k in idents] == ["65536"]  # three pods, one identity, first id of cluster 1


def test_identities_differ_by_service_account_and_namespace_labels_ref_1_13():
    """Same pod labels, another service account or another namespace: another identity."""
    pods = "\n---\n".join(
        f"""\
apiVersion: v1
kind: Pod
metadata: {{name: p{i}, namespace: {ns}, labels: {{app: web}}}}
spec: {{serviceAccountName: {sa}, containers: [{{name: c}}]}}
"""
        for i, (ns, sa) in enumerate([("a", "x"), ("a", "x"), ("a", "y"), ("b", "x")])
    )
    ns_b = "apiVersion: v1\nkind: Namespace\nmetadata: {name: b, labels: {team: t}}\n---\n"
    objs = plan_apply(CFG, {}, resources(ns_b + pods)).objects
    labels = [o["security-labels"] for k, o in objs.items() if k[0] == "CiliumIdentity"]
    assert len(labels) == 3
    assert {
        (lb["k8s:io.kubernetes.pod.namespace"], lb["k8s:io.cilium.k8s.policy.serviceaccount"])
        for lb in labels
    } == {("a", "x"), ("a", "y"), ("b", "x")}
    (b,) = [lb for lb in labels if lb["k8s:io.kubernetes.pod.namespace"] == "b"]
    assert b["k8s:io.cilium.k8s.namespace.labels.team"] == "t"


def test_delete_workload_removes_its_pods_and_identity():
    objs = plan_apply(CFG, {}, resources(DEPLOY)).objects
    plan, missing = plan_delete(CFG, objs, resources(DEPLOY))
    assert not missing
    assert not [k for k in plan.objects if k[0] in ("Pod", "CiliumIdentity")]


NODES_AND_PODS = """\
apiVersion: v1
kind: Node
metadata: {name: n-a}
spec: {podCIDR: 10.1.1.0/24}
---
apiVersion: v1
kind: Node
metadata: {name: n-b}
spec: {podCIDR: 10.1.0.0/23}
---
apiVersion: v1
kind: Node
metadata: {name: n-c}
---
apiVersion: v1
kind: Node
metadata: {name: n-d}
status: {addresses: [{type: InternalIP, address: 172.18.0.2}]}
---
apiVersion: v1
kind: Node
metadata: {name: n-e}
"""


def test_free_subnets_and_addresses_are_the_lowest_ones_ipam_hands_out():
    """Nodes and pods get what ``ipam`` gives one call after another (plan walks each range
    once): the lowest /24 overlapping no taken CIDR, the lowest free address."""
    from cmesh.cluster import ipam

    pods = "".join(
        f"---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: d}}\n"
        f"spec: {{nodeName: n-{'ac'[i % 2]}, containers: [{{name: c}}]}}\n"
        + ("status: {podIP: 10.1.2.3}\n" if i == 0 else "")
        for i in range(6)
    )
    objs = plan_apply(CFG, {}, resources(NODES_AND_PODS + pods)).objects
    inv = Inventory.build(objs)
    taken = ["10.1.1.0/24", "10.1.0.0/23"]
    for name in ("n-c", "n-d", "n-e"):
        want = ipam.free_subnet(CFG.pod_cidr, taken)
        assert inv.nodes[name].pod_cidr == want
        taken.append(want)
    assert [inv.nodes[n].ip for n in ("n-a", "n-b", "n-c", "n-d", "n-e")] == [
        "172.18.0.3", "172.18.0.4", "172.18.0.5", "172.18.0.2", "172.18.0.6",
    ]  # fmt: skip
    used: set[str] = {"10.1.2.3"}
    for i in range(1, 6):
        pod = inv.pods[("d", f"p{i}")]
        want = ipam.free_address(inv.nodes[pod.node].pod_cidr, used)
        assert pod.ip == want
        used.add(want)


def test_a_container_port_without_a_number_is_no_named_port():
    """``ports: [{name: http}]`` loads and gives the pod no port: a named-port rule cannot
    resolve against it (ref §1.8)."""
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: d}\n"
        "spec: {containers: [{name: c, ports: [{name: http}, {name: dns, containerPort: 53}]}]}\n"
    )
    inv = Inventory.build(plan_apply(CFG, {}, resources(text)).objects)
    assert [(p.name, p.port) for p in inv.pods[("d", "p")].ports] == [("dns", 53)]
