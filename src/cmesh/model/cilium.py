"""CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy and CiliumCIDRGroup objects (ref §1.1)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from cmesh.model.base import Model
from cmesh.model.ciliumrule import Rule
from cmesh.model.meta import ObjectMeta


class CiliumNetworkPolicy(Model):
    """A namespaced policy: ``spec`` (one Rule) and/or ``specs`` (a list); both are imported."""

    api_version: str = Field(alias="apiVersion")
    kind: Literal["CiliumNetworkPolicy"]
    metadata: ObjectMeta
    spec: Rule | None = None
    specs: list[Rule] | None = None
    status: dict[str, Any] | None = None

    @property
    def rules(self) -> list[Rule]:
        return ([self.spec] if self.spec is not None else []) + list(self.specs or [])


class CiliumClusterwideNetworkPolicy(Model):
    """A cluster-scoped policy; no namespace is injected anywhere (ref §1.14)."""

    api_version: str = Field(alias="apiVersion")
    kind: Literal["CiliumClusterwideNetworkPolicy"]
    metadata: ObjectMeta
    spec: Rule | None = None
    specs: list[Rule] | None = None
    status: dict[str, Any] | None = None

    @property
    def rules(self) -> list[Rule]:
        return ([self.spec] if self.spec is not None else []) + list(self.specs or [])


class CiliumCIDRGroupSpec(Model):
    external_cidrs: list[str] = Field(default_factory=list, alias="externalCIDRs")


class CiliumCIDRGroup(Model):
    """A named set of CIDRs, referenced from ``cidrGroupRef`` / ``cidrGroupSelector``."""

    api_version: str = Field(alias="apiVersion")
    kind: Literal["CiliumCIDRGroup"]
    metadata: ObjectMeta
    spec: CiliumCIDRGroupSpec = Field(default_factory=CiliumCIDRGroupSpec)
