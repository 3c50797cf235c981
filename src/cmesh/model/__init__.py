"""Typed Kubernetes and Cilium resources parsed from YAML/JSON, with located errors.

Pure: text in, objects out.  Reading files is the caller's business (``cmesh.registry``).

Names are imported on first use (PEP 562) so that commands load only what they need."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cmesh._lazy import lazy_exports

_EXPORTS: dict[str, tuple[str, str]] = {
    "CIDRRule": ("cmesh.model.ciliuml4", "CIDRRule"),
    "CiliumCIDRGroup": ("cmesh.model.cilium", "CiliumCIDRGroup"),
    "CiliumClusterwideNetworkPolicy": ("cmesh.model.cilium", "CiliumClusterwideNetworkPolicy"),
    "CiliumNetworkPolicy": ("cmesh.model.cilium", "CiliumNetworkPolicy"),
    "Document": ("cmesh.model.source", "Document"),
    "EgressDenyRule": ("cmesh.model.ciliumrule", "EgressDenyRule"),
    "EgressRule": ("cmesh.model.ciliumrule", "EgressRule"),
    "EndpointSelector": ("cmesh.model.selector", "EndpointSelector"),
    "FQDNSelector": ("cmesh.model.ciliuml4", "FQDNSelector"),
    "ICMPRule": ("cmesh.model.ciliuml4", "ICMPRule"),
    "IngressDenyRule": ("cmesh.model.ciliumrule", "IngressDenyRule"),
    "IngressRule": ("cmesh.model.ciliumrule", "IngressRule"),
    "KINDS": ("cmesh.model.kinds", "KINDS"),
    "KindInfo": ("cmesh.model.kinds", "KindInfo"),
    "L7Rules": ("cmesh.model.ciliuml4", "L7Rules"),
    "Model": ("cmesh.model.base", "Model"),
    "NOT_CILIUM": ("cmesh.model.load", "NOT_CILIUM"),
    "Namespace": ("cmesh.model.core", "Namespace"),
    "NetworkPolicy": ("cmesh.model.networkpolicy", "NetworkPolicy"),
    "Node": ("cmesh.model.core", "Node"),
    "POLICY_KINDS": ("cmesh.model.kinds", "POLICY_KINDS"),
    "Pod": ("cmesh.model.core", "Pod"),
    "PodPlan": ("cmesh.model.workloads", "PodPlan"),
    "PortDenyRule": ("cmesh.model.ciliuml4", "PortDenyRule"),
    "PortProtocol": ("cmesh.model.ciliuml4", "PortProtocol"),
    "PortRule": ("cmesh.model.ciliuml4", "PortRule"),
    "PortRuleHTTP": ("cmesh.model.ciliuml4", "PortRuleHTTP"),
    "Positions": ("cmesh.model.source", "Positions"),
    "Requirement": ("cmesh.model.selector", "Requirement"),
    "Resource": ("cmesh.model.load", "Resource"),
    "Rule": ("cmesh.model.ciliumrule", "Rule"),
    "Secret": ("cmesh.model.core", "Secret"),
    "Service": ("cmesh.model.core", "Service"),
    "ServiceAccount": ("cmesh.model.core", "ServiceAccount"),
    "Source": ("cmesh.model.load", "Source"),
    "TLSContext": ("cmesh.model.ciliuml4", "TLSContext"),
    "UnknownFields": ("cmesh.model.load", "UnknownFields"),
    "WORKLOAD_KINDS": ("cmesh.model.kinds", "WORKLOAD_KINDS"),
    "expand": ("cmesh.model.workloads", "expand"),
    "from_stored": ("cmesh.model.load", "from_stored"),
    "kind_for": ("cmesh.model.kinds", "kind_for"),
    "load": ("cmesh.model.load", "load"),
    "load_text": ("cmesh.model.load", "load_text"),
    "parse_documents": ("cmesh.model.source", "parse_documents"),
    "positions_dict": ("cmesh.model.load", "positions_dict"),
    "render_path": ("cmesh.model.source", "render_path"),
}

__all__ = [
    "KINDS",
    "NOT_CILIUM",
    "POLICY_KINDS",
    "WORKLOAD_KINDS",
    "CIDRRule",
    "CiliumCIDRGroup",
    "CiliumClusterwideNetworkPolicy",
    "CiliumNetworkPolicy",
    "Document",
    "EgressDenyRule",
    "EgressRule",
    "EndpointSelector",
    "FQDNSelector",
    "ICMPRule",
    "IngressDenyRule",
    "IngressRule",
    "KindInfo",
    "L7Rules",
    "Model",
    "Namespace",
    "NetworkPolicy",
    "Node",
    "Pod",
    "PodPlan",
    "PortDenyRule",
    "PortProtocol",
    "PortRule",
    "PortRuleHTTP",
    "Positions",
    "Requirement",
    "Resource",
    "Rule",
    "Secret",
    "Service",
    "ServiceAccount",
    "Source",
    "TLSContext",
    "UnknownFields",
    "expand",
    "from_stored",
    "kind_for",
    "load",
    "load_text",
    "parse_documents",
    "positions_dict",
    "render_path",
]

if TYPE_CHECKING:
    from cmesh.model.base import Model
    from cmesh.model.cilium import (
        CiliumCIDRGroup,
        CiliumClusterwideNetworkPolicy,
        CiliumNetworkPolicy,
    )
    from cmesh.model.ciliuml4 import (
        CIDRRule,
        FQDNSelector,
        ICMPRule,
        L7Rules,
        PortDenyRule,
        PortProtocol,
        PortRule,
        PortRuleHTTP,
        TLSContext,
    )
    from cmesh.model.ciliumrule import (
        EgressDenyRule,
        EgressRule,
        IngressDenyRule,
        IngressRule,
        Rule,
    )
    from cmesh.model.core import Namespace, Node, Pod, Secret, Service, ServiceAccount
    from cmesh.model.kinds import KINDS, POLICY_KINDS, WORKLOAD_KINDS, KindInfo, kind_for
    from cmesh.model.load import (
        NOT_CILIUM,
        Resource,
        Source,
        UnknownFields,
        from_stored,
        load,
        load_text,
        positions_dict,
    )
    from cmesh.model.networkpolicy import NetworkPolicy
    from cmesh.model.selector import EndpointSelector, Requirement
    from cmesh.model.source import Document, Positions, parse_documents, render_path
    from cmesh.model.workloads import PodPlan, expand


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
