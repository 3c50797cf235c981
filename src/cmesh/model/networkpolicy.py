"""Kubernetes NetworkPolicy (``networking.k8s.io/v1``), as written (ref §2.13)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from cmesh.model.base import Model
from cmesh.model.meta import ObjectMeta
from cmesh.model.selector import EndpointSelector


class IPBlock(Model):
    cidr: str
    except_: list[str] | None = Field(None, alias="except")


class NetworkPolicyPeer(Model):
    pod_selector: EndpointSelector | None = Field(None, alias="podSelector")
    namespace_selector: EndpointSelector | None = Field(None, alias="namespaceSelector")
    ip_block: IPBlock | None = Field(None, alias="ipBlock")


class NetworkPolicyPort(Model):
    protocol: Literal["TCP", "UDP", "SCTP"] = "TCP"
    port: int | str | None = None
    end_port: int | None = Field(None, alias="endPort", ge=1, le=65535)

    @field_validator("protocol", mode="before")
    @classmethod
    def _default(cls, v: object) -> object:
        return "TCP" if v is None else v


class NetworkPolicyIngressRule(Model):
    from_: list[NetworkPolicyPeer] | None = Field(None, alias="from")
    ports: list[NetworkPolicyPort] | None = None


class NetworkPolicyEgressRule(Model):
    to: list[NetworkPolicyPeer] | None = None
    ports: list[NetworkPolicyPort] | None = None


class NetworkPolicySpec(Model):
    pod_selector: EndpointSelector = Field(alias="podSelector")
    policy_types: list[Literal["Ingress", "Egress"]] | None = Field(None, alias="policyTypes")
    ingress: list[NetworkPolicyIngressRule] | None = None
    egress: list[NetworkPolicyEgressRule] | None = None

    @field_validator("pod_selector", mode="before")
    @classmethod
    def _null_selects_all(cls, v: object) -> object:
        """``podSelector:`` with no value is the empty selector, every pod of the namespace:
        the field is a struct, not a pointer, so the API server decodes null as ``{}``
        (the network-policy-api conformance manifests write it so)."""
        return {} if v is None else v


class NetworkPolicy(Model):
    api_version: str = Field(alias="apiVersion")
    kind: Literal["NetworkPolicy"]
    metadata: ObjectMeta
    spec: NetworkPolicySpec
    status: dict[str, object] | None = None
