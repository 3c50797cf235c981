"""The table of kinds cmesh reads: model class, scope, API versions, plural and short names."""

from __future__ import annotations

from dataclasses import dataclass

from cmesh.model import cilium, core, networkpolicy, workloads
from cmesh.model.base import Model


@dataclass(frozen=True, slots=True)
class KindInfo:
    kind: str
    model: type[Model]
    namespaced: bool
    api_versions: tuple[str, ...]
    plural: str
    short_names: tuple[str, ...] = ()
    policy: bool = False  # strict unknown-field checking and policy validation apply

    @property
    def api_version(self) -> str:
        return self.api_versions[0]


KINDS: dict[str, KindInfo] = {
    k.kind: k
    for k in (
        KindInfo("Namespace", core.Namespace, False, ("v1",), "namespaces", ("ns",)),
        KindInfo("Node", core.Node, False, ("v1",), "nodes", ("no",)),
        KindInfo("ServiceAccount", core.ServiceAccount, True, ("v1",), "serviceaccounts", ("sa",)),
        KindInfo("Pod", core.Pod, True, ("v1",), "pods", ("po",)),
        KindInfo("Service", core.Service, True, ("v1",), "services", ("svc",)),
        KindInfo("Secret", core.Secret, True, ("v1",), "secrets"),
        KindInfo(
            "Deployment", workloads.Deployment, True, ("apps/v1",), "deployments", ("deploy",)
        ),
        KindInfo("ReplicaSet", workloads.ReplicaSet, True, ("apps/v1",), "replicasets", ("rs",)),
        KindInfo(
            "StatefulSet", workloads.StatefulSet, True, ("apps/v1",), "statefulsets", ("sts",)
        ),
        KindInfo("DaemonSet", workloads.DaemonSet, True, ("apps/v1",), "daemonsets", ("ds",)),
        KindInfo("Job", workloads.Job, True, ("batch/v1",), "jobs"),
        KindInfo(
            "CronJob", workloads.CronJob, True, ("batch/v1", "batch/v1beta1"), "cronjobs", ("cj",)
        ),
        KindInfo(
            "NetworkPolicy",
            networkpolicy.NetworkPolicy,
            True,
            ("networking.k8s.io/v1",),
            "networkpolicies",
            ("netpol", "np"),
            policy=True,
        ),
        KindInfo(
            "CiliumNetworkPolicy",
            cilium.CiliumNetworkPolicy,
            True,
            ("cilium.io/v2",),
            "ciliumnetworkpolicies",
            ("cnp", "ciliumnp"),
            policy=True,
        ),
        KindInfo(
            "CiliumClusterwideNetworkPolicy",
            cilium.CiliumClusterwideNetworkPolicy,
            False,
            ("cilium.io/v2",),
            "ciliumclusterwidenetworkpolicies",
            ("ccnp",),
            policy=True,
        ),
        KindInfo(
            "CiliumCIDRGroup",
            cilium.CiliumCIDRGroup,
            False,
            ("cilium.io/v2alpha1", "cilium.io/v2"),
            "ciliumcidrgroups",
            ("ccg",),
            policy=True,
        ),
    )
}

WORKLOAD_KINDS = ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob")
POLICY_KINDS = ("NetworkPolicy", "CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy")


def kind_for(name: str) -> KindInfo | None:
    """Resolve what a user types after ``get``: kind, plural, singular or short name."""
    low = name.lower()
    for info in KINDS.values():
        if low in (info.kind.lower(), info.plural, *info.short_names):
            return info
    return None
