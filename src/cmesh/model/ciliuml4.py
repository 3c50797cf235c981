"""The L4 and L7 parts of Cilium rules: ``toPorts``, L7 rules, TLS contexts, ICMP, auth.

Mirrors ``pkg/policy/api/l4.go``, ``http.go``, ``fqdn.go``, ``icmp.go`` (ref §1.8, §1.10, §1.11).
Only the shape is checked here; what Cilium's ``Sanitize`` refuses is checked by
:mod:`cmesh.policy.validate`.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator

from cmesh.model.base import Model
from cmesh.model.selector import EndpointSelector

# The CRD pattern of PortProtocol.port: a number 0-65535 or an IANA service name.
_PORT_NUMBER = re.compile(r"^[0-9]{1,5}$")
_PORT_NAME = re.compile(r"^(?=.*[a-zA-Z])[a-zA-Z0-9](?:-?[a-zA-Z0-9])*$")

#: [1.19] CRD enum of PortProtocol.protocol (ref §1.8); ICMP is matched with ``icmps``.
L4Proto = Literal["TCP", "UDP", "SCTP", "VRRP", "IGMP", "ANY"]


def check_port(value: str | int) -> str:
    """Normalise a port field: ``"80"``, ``80`` or a name such as ``http`` (lower-cased)."""
    text = str(value).strip() if not isinstance(value, bool) else ""
    if _PORT_NUMBER.match(text):
        if int(text) > 65535:
            raise ValueError(f"port {text} is out of range; ports are 0-65535")
        return str(int(text))
    if _PORT_NAME.match(text) and len(text) <= 15:
        return text.lower()
    raise ValueError(
        f"expected a port number (0-65535) or a port name such as 'http', got {value!r}"
    )


class PortProtocol(Model):
    port: str = ""
    end_port: int | None = Field(None, alias="endPort", ge=0, le=65535)
    protocol: L4Proto = "ANY"

    @field_validator("port", mode="before")
    @classmethod
    def _port(cls, v: object) -> object:
        if v is None or v == "":
            return ""
        if isinstance(v, str | int) and not isinstance(v, bool):
            return check_port(v)
        return v

    @field_validator("protocol", mode="before")
    @classmethod
    def _proto_default(cls, v: object) -> object:
        return "ANY" if v in (None, "") else v

    @property
    def is_named(self) -> bool:
        return bool(self.port) and not self.port.isdigit()


class Secret(Model):
    namespace: str = ""
    name: str


class TLSContext(Model):
    secret: Secret | None = None
    trusted_ca: str = Field("", alias="trustedCA")
    certificate: str = ""
    private_key: str = Field("", alias="privateKey")


class HeaderMatch(Model):
    name: str
    value: str = ""
    secret: Secret | None = None
    mismatch: Literal["", "LOG", "ADD", "DELETE", "REPLACE"] = ""


class PortRuleHTTP(Model):
    path: str = ""
    method: str = ""
    host: str = ""
    headers: list[str] | None = None
    header_matches: list[HeaderMatch] | None = Field(None, alias="headerMatches")


class FQDNSelector(Model):
    """``{matchName}`` or ``{matchPattern}`` (ref §1.7); also the shape of a DNS rule."""

    match_name: str = Field("", alias="matchName", max_length=255)
    match_pattern: str = Field("", alias="matchPattern", max_length=255)


class PortRuleKafka(Model):
    role: str = ""
    api_key: str = Field("", alias="apiKey")
    api_version: str = Field("", alias="apiVersion")
    client_id: str = Field("", alias="clientID")
    topic: str = ""


class L7Rules(Model):
    http: list[PortRuleHTTP] | None = None
    kafka: list[PortRuleKafka] | None = None
    dns: list[FQDNSelector] | None = None
    l7proto: str = ""
    l7: list[dict[str, str]] | None = None


class EnvoyConfigRef(Model):
    kind: Literal["CiliumEnvoyConfig", "CiliumClusterwideEnvoyConfig"] = "CiliumEnvoyConfig"
    name: str


class Listener(Model):
    envoy_config: EnvoyConfigRef = Field(alias="envoyConfig")
    name: str
    priority: int = Field(0, ge=0, le=100)


class PortRule(Model):
    ports: list[PortProtocol] | None = Field(None, max_length=40)
    rules: L7Rules | None = None
    terminating_tls: TLSContext | None = Field(None, alias="terminatingTLS")
    originating_tls: TLSContext | None = Field(None, alias="originatingTLS")
    server_names: list[str] | None = Field(None, alias="serverNames")
    listener: Listener | None = None


class PortDenyRule(Model):
    ports: list[PortProtocol] | None = Field(None, max_length=40)


class ICMPField(Model):
    family: Literal["IPv4", "IPv6"] = "IPv4"
    type: int | str

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, v: Any) -> Any:
        if isinstance(v, int) and not isinstance(v, bool) and not 0 <= v <= 255:
            raise ValueError(f"ICMP type {v} is out of range 0-255")
        return v


class ICMPRule(Model):
    fields: list[ICMPField] = Field(max_length=40)


class Authentication(Model):
    mode: Literal["disabled", "required", "test-always-fail"]


class CIDRRule(Model):
    cidr: str = ""
    cidr_group_ref: str = Field("", alias="cidrGroupRef")
    cidr_group_selector: EndpointSelector | None = Field(None, alias="cidrGroupSelector")
    except_: list[str] | None = Field(None, alias="except")
    generated: bool = False


class K8sServiceNamespace(Model):
    service_name: str = Field("", alias="serviceName")
    namespace: str = ""


class K8sServiceSelectorNamespace(Model):
    selector: EndpointSelector
    namespace: str = ""


class ServiceRef(Model):
    k8s_service: K8sServiceNamespace | None = Field(None, alias="k8sService")
    k8s_service_selector: K8sServiceSelectorNamespace | None = Field(
        None, alias="k8sServiceSelector"
    )
