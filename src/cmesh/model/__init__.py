"""Typed Kubernetes and Cilium resources parsed from YAML/JSON, with located errors.

Pure: text in, objects out.  Reading files is the caller's business (``cmesh.registry``).
"""

from cmesh.model.base import Model
from cmesh.model.cilium import CiliumCIDRGroup, CiliumClusterwideNetworkPolicy, CiliumNetworkPolicy
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
from cmesh.model.ciliumrule import EgressDenyRule, EgressRule, IngressDenyRule, IngressRule, Rule
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
