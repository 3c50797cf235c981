"""Workload expansion into pods, named as Kubernetes controllers name them."""

from cmesh.model import expand

TEMPLATE = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c"}]}}


def dep(replicas=3):
    return {"metadata": {"name": "web"}, "spec": {"replicas": replicas, "template": TEMPLATE}}


def test_deployment_pods_are_deterministic_and_labelled():
    a = expand("Deployment", dep(), "default", ["n1"])
    b = expand("Deployment", dep(), "default", ["n1"])
    assert [p.name for p in a] == [p.name for p in b]
    assert len(a) == 3 and len({p.name for p in a}) == 3
    h = a[0].labels["pod-template-hash"]
    assert all(p.name.startswith(f"web-{h}-") for p in a)
    assert a[0].labels["app"] == "web"
    assert (a[0].owner_kind, a[0].owner_name) == ("ReplicaSet", f"web-{h}")
    assert (a[0].workload_kind, a[0].workload_name) == ("Deployment", "web")


def test_default_replicas_is_one_and_zero_is_zero():
    assert (
        len(
            expand(
                "Deployment", {"metadata": {"name": "w"}, "spec": {"template": TEMPLATE}}, "d", []
            )
        )
        == 1
    )
    assert expand("Deployment", dep(0), "d", []) == []


def test_statefulset_ordinals():
    pods = expand(
        "StatefulSet",
        {"metadata": {"name": "db"}, "spec": {"replicas": 2, "template": TEMPLATE}},
        "d",
        [],
    )
    assert [p.name for p in pods] == ["db-0", "db-1"]
    assert pods[1].labels["statefulset.kubernetes.io/pod-name"] == "db-1"


def test_daemonset_one_pod_per_node():
    pods = expand(
        "DaemonSet",
        {"metadata": {"name": "agent"}, "spec": {"template": TEMPLATE}},
        "d",
        ["a", "b"],
    )
    assert sorted(p.node_name for p in pods) == ["a", "b"]


def test_job_and_cronjob():
    job = expand(
        "Job",
        {"metadata": {"name": "j"}, "spec": {"parallelism": 2, "template": TEMPLATE}},
        "d",
        [],
    )
    assert len(job) == 2 and job[0].labels["job-name"] == "j"
    cj = expand(
        "CronJob",
        {"metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": TEMPLATE}}}},
        "d",
        [],
    )
    assert len(cj) == 1 and cj[0].workload_kind == "CronJob" and cj[0].name.startswith("c-")
