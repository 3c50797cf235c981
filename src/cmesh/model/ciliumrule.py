"""A Cilium policy Rule and its ingress/egress sections (``pkg/policy/api/rule.go``, ref §1.2-§1.3).

``None`` and ``[]`` are different things in Cilium (ref §1.3): a peer field that is not written
is ``None``, an explicitly empty list is ``[]``; the models keep that difference.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from cmesh.model.base import Model
from cmesh.model.ciliuml4 import (
    Authentication,
    CIDRRule,
    FQDNSelector,
    ICMPRule,
    PortDenyRule,
    PortRule,
    ServiceRef,
)
from cmesh.model.selector import EndpointSelector


class _IngressCommon(Model):
    from_endpoints: list[EndpointSelector] | None = Field(None, alias="fromEndpoints")
    from_requires: list[EndpointSelector] | None = Field(None, alias="fromRequires")
    from_cidr: list[str] | None = Field(None, alias="fromCIDR")
    from_cidr_set: list[CIDRRule] | None = Field(None, alias="fromCIDRSet")
    from_entities: list[str] | None = Field(None, alias="fromEntities")
    from_groups: list[dict[str, Any]] | None = Field(None, alias="fromGroups")
    from_nodes: list[EndpointSelector] | None = Field(None, alias="fromNodes")
    icmps: list[ICMPRule] | None = None


class IngressRule(_IngressCommon):
    to_ports: list[PortRule] | None = Field(None, alias="toPorts")
    authentication: Authentication | None = None


class IngressDenyRule(_IngressCommon):
    to_ports: list[PortDenyRule] | None = Field(None, alias="toPorts")


class _EgressCommon(Model):
    to_endpoints: list[EndpointSelector] | None = Field(None, alias="toEndpoints")
    to_requires: list[EndpointSelector] | None = Field(None, alias="toRequires")
    to_cidr: list[str] | None = Field(None, alias="toCIDR")
    to_cidr_set: list[CIDRRule] | None = Field(None, alias="toCIDRSet")
    to_entities: list[str] | None = Field(None, alias="toEntities")
    to_services: list[ServiceRef] | None = Field(None, alias="toServices")
    to_groups: list[dict[str, Any]] | None = Field(None, alias="toGroups")
    to_nodes: list[EndpointSelector] | None = Field(None, alias="toNodes")
    icmps: list[ICMPRule] | None = None


class EgressRule(_EgressCommon):
    to_ports: list[PortRule] | None = Field(None, alias="toPorts")
    to_fqdns: list[FQDNSelector] | None = Field(None, alias="toFQDNs")
    authentication: Authentication | None = None


class EgressDenyRule(_EgressCommon):
    to_ports: list[PortDenyRule] | None = Field(None, alias="toPorts")


class DefaultDenyConfig(Model):
    ingress: bool | None = None
    egress: bool | None = None


class LogConfig(Model):
    value: str = Field("", max_length=32)


class RuleLabel(Model):
    key: str
    value: str = ""
    source: str = ""


class Rule(Model):
    endpoint_selector: EndpointSelector | None = Field(None, alias="endpointSelector")
    node_selector: EndpointSelector | None = Field(None, alias="nodeSelector")
    ingress: list[IngressRule] | None = None
    ingress_deny: list[IngressDenyRule] | None = Field(None, alias="ingressDeny")
    egress: list[EgressRule] | None = None
    egress_deny: list[EgressDenyRule] | None = Field(None, alias="egressDeny")
    labels: list[RuleLabel] | None = None
    enable_default_deny: DefaultDenyConfig | None = Field(None, alias="enableDefaultDeny")
    description: str = ""
    log: LogConfig | None = None

    @field_validator("labels", mode="before")
    @classmethod
    def _labels(cls, v: object) -> object:
        # LabelArray may be written as "source:key=value" strings too.
        if isinstance(v, list):
            out: list[object] = []
            for item in v:
                if isinstance(item, str):
                    src, _, rest = item.rpartition(":") if ":" in item else ("", "", item)
                    key, _, value = rest.partition("=")
                    out.append({"key": key, "value": value, "source": src})
                else:
                    out.append(item)
            return out
        return v
