"""The table of kinds cmesh reads: model class, scope, API versions, plural and short names."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cmesh.model.base import Model


@dataclass(frozen=True, slots=True)
class KindInfo:
    """A kind cmesh reads.  ``model_path`` (``module:Class``) is imported on first use, so that
    code needing only names and scopes (store keys, ``get``) does not load pydantic."""

    kind: str
    model_path: str
    namespaced: bool
    api_versions: tuple[str, ...]
    plural: str
    short_names: tuple[str, ...] = ()
    policy: bool = False  # strict unknown-field checking and policy validation apply

    @property
    def model(self) -> type[Model]:
        module, _, cls = self.model_path.partition(":")
        return getattr(importlib.import_module(module), cls)  # type: ignore[no-any-return]

    @property
    def api_version(self) -> str:
        return self.api_versions[0]


KINDS: dict[str, KindInfo] = {
    k.kind: k
    for k in (
        KindInfo("Namespace", "cmesh.model.core:Namespace", False, ("v1",), "namespaces", ("ns",)),
        KindInfo("Node", "cmesh.model.core:Node", False, ("v1",), "nodes", ("no",)),
        KindInfo(
            "ServiceAccount",
            "cmesh.model.core:ServiceAccount",
            True,
            ("v1",),
            "serviceaccounts",
            ("sa",),
        ),
        KindInfo("Pod", "cmesh.model.core:Pod", True, ("v1",), "pods", ("po",)),
        KindInfo("Service", "cmesh.model.core:Service", True, ("v1",), "services", ("svc",)),
        KindInfo("Secret", "cmesh.model.core:Secret", True, ("v1",), "secrets"),
        KindInfo(
            "Deployment",
            "cmesh.model.workloads:Deployment",
            True,
            ("apps/v1",),
            "deployments",
            ("deploy",),
        ),
        KindInfo(
            "ReplicaSet",
            "cmesh.model.workloads:ReplicaSet",
            True,
            ("apps/v1",),
            "replicasets",
            ("rs",),
        ),
        KindInfo(
            "StatefulSet",
            "cmesh.model.workloads:StatefulSet",
            True,
            ("apps/v1",),
            "statefulsets",
            ("sts",),
        ),
        KindInfo(
            "DaemonSet",
            "cmesh.model.workloads:DaemonSet",
            True,
            ("apps/v1",),
            "daemonsets",
            ("ds",),
        ),
        KindInfo("Job", "cmesh.model.workloads:Job", True, ("batch/v1",), "jobs"),
        KindInfo(
            "CronJob",
            "cmesh.model.workloads:CronJob",
            True,
            ("batch/v1", "batch/v1beta1"),
            "cronjobs",
            ("cj",),
        ),
        KindInfo(
            "NetworkPolicy",
            "cmesh.model.networkpolicy:NetworkPolicy",
            True,
            ("networking.k8s.io/v1",),
            "networkpolicies",
            ("netpol", "np"),
            policy=True,
        ),
        KindInfo(
            "CiliumNetworkPolicy",
            "cmesh.model.cilium:CiliumNetworkPolicy",
            True,
            ("cilium.io/v2",),
            "ciliumnetworkpolicies",
            ("cnp", "ciliumnp"),
            policy=True,
        ),
        KindInfo(
            "CiliumClusterwideNetworkPolicy",
            "cmesh.model.cilium:CiliumClusterwideNetworkPolicy",
            False,
            ("cilium.io/v2",),
            "ciliumclusterwidenetworkpolicies",
            ("ccnp",),
            policy=True,
        ),
        KindInfo(
            "CiliumCIDRGroup",
            "cmesh.model.cilium:CiliumCIDRGroup",
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
