"""Labels, label selectors and the labels Cilium derives for endpoints (pure core).

ref §1.12 (sources and matching), §1.13 (special labels), §2.10 (identity-relevant filter).
"""

from cmesh.labels.filter import LabelFilter
from cmesh.labels.k8s import (
    POD_NAMESPACE_LABEL,
    POD_NAMESPACE_META_LABELS,
    POD_NAMESPACE_META_LABELS_PREFIX,
    POLICY_LABEL_CLUSTER,
    POLICY_LABEL_DERIVED_FROM,
    POLICY_LABEL_NAME,
    POLICY_LABEL_NAMESPACE,
    POLICY_LABEL_SERVICEACCOUNT,
    POLICY_LABEL_UID,
    pod_labels,
    reserved,
)
from cmesh.labels.label import (
    SOURCE_ANY,
    SOURCE_CIDR,
    SOURCE_FQDN,
    SOURCE_K8S,
    SOURCE_RESERVED,
    SOURCE_UNSPEC,
    Label,
    Labels,
)
from cmesh.labels.parse import parse_selector
from cmesh.labels.selector import (
    WILDCARD,
    EndpointSelector,
    Operator,
    Requirement,
    req_exists,
    req_in,
    split_key,
)

__all__ = [
    "POD_NAMESPACE_LABEL",
    "POD_NAMESPACE_META_LABELS",
    "POD_NAMESPACE_META_LABELS_PREFIX",
    "POLICY_LABEL_CLUSTER",
    "POLICY_LABEL_DERIVED_FROM",
    "POLICY_LABEL_NAME",
    "POLICY_LABEL_NAMESPACE",
    "POLICY_LABEL_SERVICEACCOUNT",
    "POLICY_LABEL_UID",
    "SOURCE_ANY",
    "SOURCE_CIDR",
    "SOURCE_FQDN",
    "SOURCE_K8S",
    "SOURCE_RESERVED",
    "SOURCE_UNSPEC",
    "WILDCARD",
    "EndpointSelector",
    "Label",
    "LabelFilter",
    "Labels",
    "Operator",
    "Requirement",
    "parse_selector",
    "pod_labels",
    "req_exists",
    "req_in",
    "reserved",
    "split_key",
]
