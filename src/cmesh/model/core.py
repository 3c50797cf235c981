"""Core Kubernetes kinds cmesh reads: Namespace, Node, ServiceAccount, Pod, Service, Secret.

Only the fields that matter for identities, addressing, services and named ports are typed;
everything else (status, managedFields, …) is kept untouched so ``kubectl get -o yaml`` output
loads as it is.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from cmesh.model.base import LenientModel
from cmesh.model.meta import ObjectMeta

Protocol = Literal["TCP", "UDP", "SCTP"]


#: Kubernetes' IsValidPortName: an IANA service name (lowercase, a letter, no "--", <= 15).
_PORT_NAME = re.compile(r"^(?=.*[a-z])[a-z0-9](?:-?[a-z0-9])*$")
_PORT_NAME_RULE = (
    "at most 15 lowercase letters, digits and single hyphens, with at least one letter"
)


def valid_port_name(name: str) -> bool:
    return len(name) <= 15 and _PORT_NAME.match(name) is not None


class ContainerPort(LenientModel):
    name: str = ""
    container_port: int | None = Field(None, alias="containerPort", ge=0, le=65535)
    protocol: Protocol = "TCP"

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        """What a named port in a policy resolves against (ref §1.8): the API server refuses a
        name that is no IANA service name, so ``Web`` can never meet a rule's ``web``."""
        if v and not valid_port_name(v):
            raise ValueError(f"{v!r}: a port name is {_PORT_NAME_RULE}")
        return v


class Container(LenientModel):
    name: str = ""
    image: str = ""
    ports: list[ContainerPort] = Field(default_factory=list)

    @field_validator("ports", mode="before")
    @classmethod
    def _none(cls, v: object) -> object:
        return [] if v is None else v

    @field_validator("ports")
    @classmethod
    def _unique_names(cls, v: list[ContainerPort]) -> list[ContainerPort]:
        names = [p.name for p in v if p.name]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"port name(s) {', '.join(map(repr, twice))} given twice")
        return v


class PodSpec(LenientModel):
    node_name: str = Field("", alias="nodeName")
    service_account_name: str = Field("", alias="serviceAccountName")
    service_account: str = Field("", alias="serviceAccount")
    host_network: bool = Field(False, alias="hostNetwork")
    containers: list[Container] = Field(default_factory=list)
    init_containers: list[Container] = Field(default_factory=list, alias="initContainers")

    @field_validator("containers", "init_containers", mode="before")
    @classmethod
    def _none(cls, v: object) -> object:
        return [] if v is None else v

    @property
    def effective_service_account(self) -> str:
        return self.service_account_name or self.service_account or "default"


class PodIP(LenientModel):
    ip: str = ""


class PodStatus(LenientModel):
    pod_ip: str = Field("", alias="podIP")
    pod_ips: list[PodIP] = Field(default_factory=list, alias="podIPs")
    host_ip: str = Field("", alias="hostIP")
    phase: str = ""


class Pod(LenientModel):
    metadata: ObjectMeta
    spec: PodSpec = Field(default_factory=PodSpec)
    status: PodStatus = Field(default_factory=PodStatus)


class PodTemplateSpec(LenientModel):
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: PodSpec = Field(default_factory=PodSpec)


class Namespace(LenientModel):
    metadata: ObjectMeta


class ServiceAccount(LenientModel):
    metadata: ObjectMeta


class NodeAddress(LenientModel):
    type: str
    address: str


class NodeSpec(LenientModel):
    pod_cidr: str = Field("", alias="podCIDR")
    pod_cidrs: list[str] = Field(default_factory=list, alias="podCIDRs")


class NodeStatus(LenientModel):
    addresses: list[NodeAddress] = Field(default_factory=list)


class Node(LenientModel):
    metadata: ObjectMeta
    spec: NodeSpec = Field(default_factory=NodeSpec)
    status: NodeStatus = Field(default_factory=NodeStatus)

    @property
    def internal_ip(self) -> str:
        for a in self.status.addresses:
            if a.type == "InternalIP":
                return a.address
        return ""


class ServicePort(LenientModel):
    name: str = ""
    port: int = Field(ge=1, le=65535)
    target_port: int | str | None = Field(None, alias="targetPort")
    protocol: Protocol = "TCP"
    node_port: int | None = Field(None, alias="nodePort", ge=1, le=65535)
    app_protocol: str = Field("", alias="appProtocol")

    @field_validator("target_port")
    @classmethod
    def _target_port(cls, v: int | str | None) -> int | str | None:
        """As the API server validates it (``validatePortNumOrName``): a number 1-65535 or a
        container port's name; a quoted number is a name, and no valid one."""
        if isinstance(v, int) and not 1 <= v <= 65535:
            raise ValueError(f"{v}: must be between 1 and 65535, inclusive")
        if isinstance(v, str) and not valid_port_name(v):
            raise ValueError(f"{v!r}: must be a number 1-65535 or a port name ({_PORT_NAME_RULE})")
        return v


class ServiceSpec(LenientModel):
    type: Literal["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"] = "ClusterIP"
    selector: dict[str, str] | None = None
    ports: list[ServicePort] = Field(default_factory=list)
    cluster_ip: str = Field("", alias="clusterIP")
    cluster_ips: list[str] = Field(default_factory=list, alias="clusterIPs")
    external_name: str = Field("", alias="externalName")

    @field_validator("ports", "cluster_ips", mode="before")
    @classmethod
    def _none(cls, v: object) -> object:
        return [] if v is None else v

    @property
    def headless(self) -> bool:
        return self.cluster_ip == "None"


class Service(LenientModel):
    metadata: ObjectMeta
    spec: ServiceSpec = Field(default_factory=ServiceSpec)


class Secret(LenientModel):
    metadata: ObjectMeta
    type: str = "Opaque"
    data: dict[str, str] = Field(default_factory=dict)
    string_data: dict[str, str] = Field(default_factory=dict, alias="stringData")

    @field_validator("data", "string_data", mode="before")
    @classmethod
    def _none(cls, v: object) -> object:
        return {} if v is None else v
