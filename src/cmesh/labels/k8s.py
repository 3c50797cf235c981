"""The labels Cilium gives a Kubernetes pod (ref §1.13) and the reserved label sets (§2.9).

Constants keep Cilium's names (``pkg/k8s/apis/cilium.io/const.go``) so a grep for the
Cilium name finds the cmesh one.
"""

from __future__ import annotations

from collections.abc import Mapping

from cmesh.labels.filter import LabelFilter
from cmesh.labels.label import SOURCE_K8S, SOURCE_RESERVED, Label, Labels

POD_NAMESPACE_LABEL = "io.kubernetes.pod.namespace"
POD_NAME_LABEL = "io.kubernetes.pod.name"
POLICY_LABEL_SERVICEACCOUNT = "io.cilium.k8s.policy.serviceaccount"
POLICY_LABEL_CLUSTER = "io.cilium.k8s.policy.cluster"
POD_NAMESPACE_META_LABELS = "io.cilium.k8s.namespace.labels"
POD_NAMESPACE_META_LABELS_PREFIX = POD_NAMESPACE_META_LABELS + "."
POLICY_LABEL_NAME = "io.cilium.k8s.policy.name"
POLICY_LABEL_NAMESPACE = "io.cilium.k8s.policy.namespace"
POLICY_LABEL_UID = "io.cilium.k8s.policy.uid"
POLICY_LABEL_DERIVED_FROM = "io.cilium.k8s.policy.derived-from"


def pod_labels(
    labels: Mapping[str, str],
    *,
    namespace: str,
    namespace_labels: Mapping[str, str],
    service_account: str,
    cluster: str,
    label_filter: LabelFilter | None = None,
) -> Labels:
    """The identity-relevant labels of a pod: its own labels plus the ones Cilium adds.

    Pod labels become ``k8s:`` labels; Cilium adds the namespace, the service account, the
    cluster name and one ``io.cilium.k8s.namespace.labels.<k>`` per namespace label (ref §1.13),
    then keeps only identity-relevant labels (ref §2.10).
    """
    out = [Label(SOURCE_K8S, k, v) for k, v in labels.items()]
    out += [
        Label(SOURCE_K8S, POD_NAMESPACE_META_LABELS_PREFIX + k, v)
        for k, v in namespace_labels.items()
    ]
    out.append(Label(SOURCE_K8S, POD_NAMESPACE_LABEL, namespace))
    if service_account:
        out.append(Label(SOURCE_K8S, POLICY_LABEL_SERVICEACCOUNT, service_account))
    out.append(Label(SOURCE_K8S, POLICY_LABEL_CLUSTER, cluster))
    return (label_filter or LabelFilter.default()).filter(Labels(out))


def reserved(*names: str) -> Labels:
    """``reserved:`` labels, e.g. ``reserved("host")`` for the host identity."""
    return Labels(Label(SOURCE_RESERVED, n) for n in names)
