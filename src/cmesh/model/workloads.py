"""Workload kinds and their expansion into pods, with the names Kubernetes controllers give.

A Deployment ``payment`` with 3 replicas becomes pods ``payment-<hash>-<suffix>`` owned by the
ReplicaSet ``payment-<hash>``, labelled from the pod template plus ``pod-template-hash``, as the
deployment controller does.  Names are deterministic (derived from a hash of the namespace, the
workload and the template), so applying the same manifests twice yields the same pods.

| kind        | pods                       | extra labels                                         |
|-------------|----------------------------|------------------------------------------------------|
| Deployment  | replicas (default 1)       | pod-template-hash                                    |
| ReplicaSet  | replicas (default 1)       | (none)                                               |
| StatefulSet | replicas, named ``n-0…``   | controller-revision-hash, statefulset…/pod-name,     |
|             |                            | apps.kubernetes.io/pod-index                         |
| DaemonSet   | one per node               | controller-revision-hash, pod-template-generation    |
| Job         | parallelism (default 1)    | controller-uid, job-name and their batch.… forms     |
| CronJob     | one Job's pods             | as Job                                               |
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from cmesh.model.base import LenientModel
from cmesh.model.core import PodTemplateSpec
from cmesh.model.meta import ObjectMeta

_ALNUM = "bcdfghjklmnpqrstvwxz2456789"  # the alphabet of k8s rand.SafeEncodeString


def _stable(seed: str, length: int) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(_ALNUM[b % len(_ALNUM)] for b in digest[:length])


class LabelSelectorRequirement(LenientModel):
    key: str
    operator: str
    values: list[str] = Field(default_factory=list)


class LabelSelector(LenientModel):
    match_labels: dict[str, str] = Field(default_factory=dict, alias="matchLabels")
    match_expressions: list[LabelSelectorRequirement] = Field(
        default_factory=list, alias="matchExpressions"
    )


class ReplicatedSpec(LenientModel):
    replicas: int | None = Field(None, ge=0)
    selector: LabelSelector | None = None
    template: PodTemplateSpec = Field(default_factory=PodTemplateSpec)


class Deployment(LenientModel):
    metadata: ObjectMeta
    spec: ReplicatedSpec = Field(default_factory=ReplicatedSpec)


class ReplicaSet(LenientModel):
    metadata: ObjectMeta
    spec: ReplicatedSpec = Field(default_factory=ReplicatedSpec)


class StatefulSet(LenientModel):
    metadata: ObjectMeta
    spec: ReplicatedSpec = Field(default_factory=ReplicatedSpec)


class DaemonSetSpec(LenientModel):
    selector: LabelSelector | None = None
    template: PodTemplateSpec = Field(default_factory=PodTemplateSpec)


class DaemonSet(LenientModel):
    metadata: ObjectMeta
    spec: DaemonSetSpec = Field(default_factory=DaemonSetSpec)


class JobSpec(LenientModel):
    parallelism: int | None = Field(None, ge=0)
    completions: int | None = Field(None, ge=0)
    template: PodTemplateSpec = Field(default_factory=PodTemplateSpec)


class Job(LenientModel):
    metadata: ObjectMeta
    spec: JobSpec = Field(default_factory=JobSpec)


class JobTemplate(LenientModel):
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: JobSpec = Field(default_factory=JobSpec)


class CronJobSpec(LenientModel):
    schedule: str = ""
    job_template: JobTemplate = Field(default_factory=JobTemplate, alias="jobTemplate")


class CronJob(LenientModel):
    metadata: ObjectMeta
    spec: CronJobSpec = Field(default_factory=CronJobSpec)


Workload = Deployment | ReplicaSet | StatefulSet | DaemonSet | Job | CronJob


@dataclass(frozen=True, slots=True)
class PodPlan:
    """A pod a workload asks for: its name, labels, owner chain and template spec (raw dict)."""

    name: str
    labels: dict[str, str]
    owner_kind: str
    owner_name: str
    workload_kind: str
    workload_name: str
    node_name: str
    spec: dict[str, Any]


def _template_hash(namespace: str, name: str, template: dict[str, Any]) -> str:
    return _stable(f"{namespace}/{name}/{sorted(_flatten(template))}", 10)


def _flatten(value: Any, prefix: str = "") -> list[str]:
    if isinstance(value, dict):
        return [x for k in sorted(value) for x in _flatten(value[k], f"{prefix}.{k}")]
    if isinstance(value, list):
        return [x for i, v in enumerate(value) for x in _flatten(v, f"{prefix}[{i}]")]
    return [f"{prefix}={value!r}"]


def expand(
    kind: str, raw: dict[str, Any], namespace: str, nodes: list[str], seed: str = ""
) -> list[PodPlan]:
    """The pods a workload's controller would create, deterministically.

    ``raw`` is the workload object as written; ``nodes`` the cluster's schedulable node names
    (DaemonSets get one pod per node; other pods leave ``node_name`` empty for the scheduler).
    ``seed`` (the cluster name) varies the random-looking name suffixes between clusters, as
    real controllers would, while the template hash stays the same.
    """
    namespace_seed = f"{seed}/{namespace}" if seed else namespace
    meta = raw.get("metadata") or {}
    name = meta.get("name", "")
    spec = raw.get("spec") or {}
    if kind == "CronJob":
        job_spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
        job_name = f"{name}-{int(_stable(f'{namespace}/{name}', 8).encode().hex(), 16) % 10**8:08d}"
        return _job_pods(job_spec, namespace_seed, job_name, "CronJob", name)
    if kind == "Job":
        return _job_pods(spec, namespace_seed, name, "Job", name)
    template = spec.get("template") or {}
    tmeta = template.get("metadata") or {}
    labels = dict(tmeta.get("labels") or {})
    pspec = dict(template.get("spec") or {})
    replicas = spec.get("replicas")
    count = 1 if replicas is None else int(replicas)
    plans: list[PodPlan] = []
    if kind == "Deployment":
        h = _template_hash(namespace, name, template)
        rs = f"{name}-{h}"
        for i in range(count):
            plans.append(
                PodPlan(
                    f"{rs}-{_stable(f'{namespace_seed}/{rs}/{i}', 5)}",
                    {**labels, "pod-template-hash": h},
                    "ReplicaSet",
                    rs,
                    "Deployment",
                    name,
                    "",
                    pspec,
                )
            )
    elif kind == "ReplicaSet":
        for i in range(count):
            plans.append(
                PodPlan(
                    f"{name}-{_stable(f'{namespace_seed}/{name}/{i}', 5)}",
                    labels,
                    "ReplicaSet",
                    name,
                    "ReplicaSet",
                    name,
                    "",
                    pspec,
                )
            )
    elif kind == "StatefulSet":
        rev = f"{name}-{_template_hash(namespace, name, template)}"
        for i in range(count):
            pod = f"{name}-{i}"
            plans.append(
                PodPlan(
                    pod,
                    {
                        **labels,
                        "controller-revision-hash": rev,
                        "statefulset.kubernetes.io/pod-name": pod,
                        "apps.kubernetes.io/pod-index": str(i),
                    },
                    "StatefulSet",
                    name,
                    "StatefulSet",
                    name,
                    "",
                    pspec,
                )
            )
    elif kind == "DaemonSet":
        rev = _template_hash(namespace, name, template)
        for node in nodes:
            plans.append(
                PodPlan(
                    f"{name}-{_stable(f'{namespace_seed}/{name}/{node}', 5)}",
                    {**labels, "controller-revision-hash": rev, "pod-template-generation": "1"},
                    "DaemonSet",
                    name,
                    "DaemonSet",
                    name,
                    node,
                    pspec,
                )
            )
    return plans


def _job_pods(
    job_spec: dict[str, Any], namespace: str, job: str, wl_kind: str, wl_name: str
) -> list[PodPlan]:
    template = job_spec.get("template") or {}
    labels = dict((template.get("metadata") or {}).get("labels") or {})
    uid = _stable(f"{namespace}/{job}/uid", 12)
    labels.update(
        {
            "controller-uid": uid,
            "job-name": job,
            "batch.kubernetes.io/controller-uid": uid,
            "batch.kubernetes.io/job-name": job,
        }
    )
    par = job_spec.get("parallelism")
    count = 1 if par is None else int(par)
    comp = job_spec.get("completions")
    if comp is not None:
        count = min(count, int(comp))
    pspec = dict(template.get("spec") or {})
    return [
        PodPlan(
            f"{job}-{_stable(f'{namespace}/{job}/{i}', 5)}",
            labels,
            "Job",
            job,
            wl_kind,
            wl_name,
            "",
            pspec,
        )
        for i in range(count)
    ]
