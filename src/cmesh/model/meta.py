"""Kubernetes object metadata, as much of it as cmesh reads."""

from __future__ import annotations

from pydantic import Field, field_validator

from cmesh.model.base import LenientModel


class OwnerReference(LenientModel):
    api_version: str = Field("", alias="apiVersion")
    kind: str = ""
    name: str = ""
    uid: str = ""
    controller: bool = False


class ObjectMeta(LenientModel):
    """``metadata``: name, namespace, labels and annotations; server fields are kept, unread."""

    name: str = ""
    generate_name: str = Field("", alias="generateName")
    namespace: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    uid: str = ""
    owner_references: list[OwnerReference] = Field(default_factory=list, alias="ownerReferences")

    @field_validator("labels", "annotations", mode="before")
    @classmethod
    def _none_is_empty(cls, v: object) -> object:
        return {} if v is None else v

    @field_validator("owner_references", mode="before")
    @classmethod
    def _none_is_empty_list(cls, v: object) -> object:
        return [] if v is None else v

    def controller_ref(self) -> OwnerReference | None:
        """The owner that controls this object (``controller: true``), else the first owner."""
        for ref in self.owner_references:
            if ref.controller:
                return ref
        return self.owner_references[0] if self.owner_references else None
