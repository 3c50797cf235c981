"""Global-service annotations (ref §3.7, ``pkg/annotation``): current key first, then the alias."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

GLOBAL = ("service.cilium.io/global", "io.cilium/global-service")
SHARED = ("service.cilium.io/shared", "io.cilium/shared-service")
AFFINITY = ("service.cilium.io/affinity", "io.cilium/service-affinity")


class Affinity(enum.Enum):
    NONE = "none"
    LOCAL = "local"
    REMOTE = "remote"


@dataclass(frozen=True, slots=True)
class GlobalSettings:
    global_: bool
    shared: bool
    affinity: Affinity
    problems: tuple[str, ...] = ()


def _get(ann: Mapping[str, str], keys: tuple[str, str]) -> str | None:
    for k in keys:
        if k in ann:
            return ann[k]
    return None


def global_settings(annotations: Mapping[str, str]) -> GlobalSettings:
    """Read the annotations as Cilium does.

    >>> global_settings({"service.cilium.io/global": "True"}).shared
    True
    >>> global_settings({"io.cilium/global-service": "true", "io.cilium/shared-service": "false"}).shared
    False
    """
    g = (_get(annotations, GLOBAL) or "").lower() == "true"
    shared_text = _get(annotations, SHARED)
    shared = g and (shared_text is None or shared_text.lower() == "true")
    problems: list[str] = []
    aff_text = (_get(annotations, AFFINITY) or "").lower()
    affinity = Affinity.NONE
    if aff_text in ("local", "remote", "none"):
        affinity = Affinity(aff_text)
    elif aff_text:
        problems.append(
            f"unknown service.cilium.io/affinity {aff_text!r}: treated as none (local, remote or none)"
        )
    if not g:
        affinity = Affinity.NONE
    return GlobalSettings(g, shared, affinity, tuple(problems))
