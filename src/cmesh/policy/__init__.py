"""The policy engine (pure core): import, validation, selector cache, resolution, lookup.

Names are imported on first use (PEP 562) so that commands load only what they need.  The
``lookup`` function is not re-exported: a lazy name would be shadowed by the ``lookup`` submodule
once anything imports it; use ``cmesh.policy.lookup.lookup`` or ``PolicyEngine.decide``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cmesh._lazy import lazy_exports

_EXPORTS: dict[str, tuple[str, str]] = {
    "CIDRSelector": ("cmesh.policy.rule", "CIDRSelector"),
    "ClusterView": ("cmesh.policy.view", "ClusterView"),
    "Decision": ("cmesh.policy.lookup", "Decision"),
    "Direction": ("cmesh.policy.types", "Direction"),
    "DropReason": ("cmesh.policy.types", "DropReason"),
    "Endpoint": ("cmesh.policy.view", "Endpoint"),
    "FQDNSelector": ("cmesh.policy.rule", "FQDNSelector"),
    "IdentityInfo": ("cmesh.policy.selectorcache", "IdentityInfo"),
    "ImportContext": ("cmesh.policy.importer", "ImportContext"),
    "MapState": ("cmesh.policy.mapstate", "MapState"),
    "MatchType": ("cmesh.policy.types", "MatchType"),
    "Mismatch": ("cmesh.policy.explain", "Mismatch"),
    "Miss": ("cmesh.policy.explain", "Miss"),
    "PolicyEngine": ("cmesh.policy.engine", "PolicyEngine"),
    "PolicyEntry": ("cmesh.policy.resolve", "PolicyEntry"),
    "PolicyRef": ("cmesh.policy.types", "PolicyRef"),
    "PolicyRule": ("cmesh.policy.rule", "PolicyRule"),
    "PortRange": ("cmesh.policy.types", "PortRange"),
    "Protocol": ("cmesh.policy.types", "Protocol"),
    "RuleElement": ("cmesh.policy.rule", "RuleElement"),
    "SelectorCache": ("cmesh.policy.selectorcache", "SelectorCache"),
    "SelectorPolicy": ("cmesh.policy.resolve", "SelectorPolicy"),
    "Settings": ("cmesh.policy.lookup", "Settings"),
    "Verdict": ("cmesh.policy.types", "Verdict"),
    "build_view": ("cmesh.policy.view", "build_view"),
    "distill": ("cmesh.policy.resolve", "distill"),
    "import_resource": ("cmesh.policy.importer", "import_resource"),
    "nearest_misses": ("cmesh.policy.explain", "nearest_misses"),
    "validate_all": ("cmesh.policy.validate", "validate_all"),
    "validate_policy": ("cmesh.policy.validate", "validate_policy"),
}

__all__ = [
    "CIDRSelector",
    "ClusterView",
    "Decision",
    "Direction",
    "DropReason",
    "Endpoint",
    "FQDNSelector",
    "IdentityInfo",
    "ImportContext",
    "MapState",
    "MatchType",
    "Mismatch",
    "Miss",
    "PolicyEngine",
    "PolicyEntry",
    "PolicyRef",
    "PolicyRule",
    "PortRange",
    "Protocol",
    "RuleElement",
    "SelectorCache",
    "SelectorPolicy",
    "Settings",
    "Verdict",
    "build_view",
    "distill",
    "import_resource",
    "nearest_misses",
    "validate_all",
    "validate_policy",
]

if TYPE_CHECKING:
    from cmesh.policy.engine import PolicyEngine
    from cmesh.policy.explain import Mismatch, Miss, nearest_misses
    from cmesh.policy.importer import ImportContext, import_resource
    from cmesh.policy.lookup import Decision, Settings
    from cmesh.policy.mapstate import MapState
    from cmesh.policy.resolve import PolicyEntry, SelectorPolicy, distill
    from cmesh.policy.rule import CIDRSelector, FQDNSelector, PolicyRule, RuleElement
    from cmesh.policy.selectorcache import IdentityInfo, SelectorCache
    from cmesh.policy.types import (
        Direction,
        DropReason,
        MatchType,
        PolicyRef,
        PortRange,
        Protocol,
        Verdict,
    )
    from cmesh.policy.validate import validate_all, validate_policy
    from cmesh.policy.view import ClusterView, Endpoint, build_view


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
