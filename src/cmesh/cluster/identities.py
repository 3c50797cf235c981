"""Security identities of a cluster's pods, kept as ``CiliumIdentity`` objects (ref §2.10, §3.1).

As Cilium's operator does in CRD mode, every distinct identity-relevant label set of the
cluster's pods gets one ``CiliumIdentity`` named by its number, with ``security-labels``
mapping ``source:key`` to value.  Numbers come from the cluster's range and are kept: an
identity keeps its number as long as some pod has its labels; unused ones are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cmesh.cluster.config import ClusterConfig
from cmesh.cluster.inventory import ObjKey, PodInfo, meta, pod_info
from cmesh.identity import allocate
from cmesh.labels import Label, Labels, pod_labels

IDENTITY_KIND = "CiliumIdentity"


def endpoint_labels(pod: PodInfo, namespace_labels: Mapping[str, str], cluster: str) -> Labels:
    """The identity-relevant labels Cilium derives for a pod (ref §1.13, §2.10)."""
    return pod_labels(
        pod.labels,
        namespace=pod.namespace,
        namespace_labels=namespace_labels,
        service_account=pod.service_account,
        cluster=cluster,
    )


def identity_object(number: int, labels: Labels) -> dict[str, Any]:
    return {
        "apiVersion": "cilium.io/v2",
        "kind": IDENTITY_KIND,
        "metadata": {"name": str(number)},
        "security-labels": {f"{lb.source}:{lb.key}": lb.value for lb in labels.labels()},
    }


def identity_labels(obj: Mapping[str, Any]) -> Labels:
    out = []
    for k, v in (obj.get("security-labels") or {}).items():
        src, _, key = k.partition(":")
        out.append(Label(src, key, v))
    return Labels(out)


def stored_identities(objs: Mapping[ObjKey, Mapping[str, Any]]) -> dict[Labels, int]:
    return {identity_labels(o): int(k[2]) for k, o in objs.items() if k[0] == IDENTITY_KIND}


def assign_identities(cfg: ClusterConfig, objs: dict[ObjKey, dict[str, Any]]) -> None:
    """Allocate identities for new label sets and drop identities no pod uses any more."""
    ns_labels = {
        k[2]: dict(meta(o).get("labels") or {}) for k, o in objs.items() if k[0] == "Namespace"
    }
    wanted: set[Labels] = set()
    seen: set[tuple[object, ...]] = set()  # pods of one workload share everything labels read
    for k, o in objs.items():
        if k[0] != "Pod":
            continue
        p = pod_info(o)
        if p.host_network:
            continue
        same = (p.namespace, p.service_account, tuple(sorted(p.labels.items())))
        if same not in seen:
            seen.add(same)
            wanted.add(endpoint_labels(p, ns_labels.get(p.namespace, {}), cfg.name))
    existing = stored_identities(objs)
    for labels, number in existing.items():
        if labels not in wanted:
            del objs[(IDENTITY_KIND, "", str(number))]
    kept = {lb: n for lb, n in existing.items() if lb in wanted}
    new = allocate(
        wanted, kept, cluster_id=cfg.id, max_connected_clusters=cfg.max_connected_clusters
    )
    for labels, number in new.items():
        objs[(IDENTITY_KIND, "", str(number))] = identity_object(number, labels)
