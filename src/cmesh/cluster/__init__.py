"""Clusters: configuration rules, inventory views, addressing and apply planning (pure core)."""

from cmesh.cluster.config import (
    DEFAULT_SERVICE_CIDR,
    ClusterConfig,
    Ipam,
    PolicyEnforcement,
    default_node_cidr,
    default_pod_cidr,
    network,
    validate,
    validate_name_and_id,
)
from cmesh.cluster.identities import (
    IDENTITY_KIND,
    endpoint_labels,
    identity_labels,
    stored_identities,
)
from cmesh.cluster.inventory import (
    GENERATED_BY,
    Inventory,
    NamedPort,
    NodeInfo,
    ObjKey,
    PodInfo,
    ServiceInfo,
    ServicePortInfo,
    pod_info,
    service_info,
)
from cmesh.cluster.plan import Plan, default_node_names, plan_apply, plan_delete

__all__ = [
    "DEFAULT_SERVICE_CIDR",
    "GENERATED_BY",
    "IDENTITY_KIND",
    "ClusterConfig",
    "Inventory",
    "Ipam",
    "NamedPort",
    "NodeInfo",
    "ObjKey",
    "Plan",
    "PodInfo",
    "PolicyEnforcement",
    "ServiceInfo",
    "ServicePortInfo",
    "default_node_cidr",
    "default_node_names",
    "default_pod_cidr",
    "endpoint_labels",
    "identity_labels",
    "network",
    "plan_apply",
    "plan_delete",
    "pod_info",
    "service_info",
    "stored_identities",
    "validate",
    "validate_name_and_id",
]
