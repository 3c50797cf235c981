"""Clusters: configuration rules, inventory views, addressing and apply planning (pure core).

Names are imported on first use (PEP 562) so that commands load only what they need."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cmesh._lazy import lazy_exports

_EXPORTS: dict[str, tuple[str, str]] = {
    "ClusterConfig": ("cmesh.cluster.config", "ClusterConfig"),
    "DEFAULT_SERVICE_CIDR": ("cmesh.cluster.config", "DEFAULT_SERVICE_CIDR"),
    "GENERATED_BY": ("cmesh.cluster.inventory", "GENERATED_BY"),
    "IDENTITY_KIND": ("cmesh.cluster.identities", "IDENTITY_KIND"),
    "Inventory": ("cmesh.cluster.inventory", "Inventory"),
    "Ipam": ("cmesh.cluster.config", "Ipam"),
    "NamedPort": ("cmesh.cluster.inventory", "NamedPort"),
    "NodeInfo": ("cmesh.cluster.inventory", "NodeInfo"),
    "ObjKey": ("cmesh.cluster.inventory", "ObjKey"),
    "Plan": ("cmesh.cluster.plan", "Plan"),
    "PodInfo": ("cmesh.cluster.inventory", "PodInfo"),
    "PolicyEnforcement": ("cmesh.cluster.config", "PolicyEnforcement"),
    "ServiceInfo": ("cmesh.cluster.inventory", "ServiceInfo"),
    "ServicePortInfo": ("cmesh.cluster.inventory", "ServicePortInfo"),
    "default_node_cidr": ("cmesh.cluster.config", "default_node_cidr"),
    "default_node_names": ("cmesh.cluster.plan", "default_node_names"),
    "default_pod_cidr": ("cmesh.cluster.config", "default_pod_cidr"),
    "endpoint_labels": ("cmesh.cluster.identities", "endpoint_labels"),
    "identity_labels": ("cmesh.cluster.identities", "identity_labels"),
    "network": ("cmesh.cluster.config", "network"),
    "plan_apply": ("cmesh.cluster.plan", "plan_apply"),
    "plan_delete": ("cmesh.cluster.plan", "plan_delete"),
    "pod_info": ("cmesh.cluster.inventory", "pod_info"),
    "service_info": ("cmesh.cluster.inventory", "service_info"),
    "stored_identities": ("cmesh.cluster.identities", "stored_identities"),
    "validate": ("cmesh.cluster.config", "validate"),
    "validate_name_and_id": ("cmesh.cluster.config", "validate_name_and_id"),
}

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

if TYPE_CHECKING:
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


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
