"""The policy engine (pure core): import, validation, selector cache, resolution, lookup."""

from cmesh.policy.engine import PolicyEngine
from cmesh.policy.explain import Mismatch, Miss, nearest_misses
from cmesh.policy.importer import ImportContext, import_all, import_resource
from cmesh.policy.lookup import Decision, Settings, lookup
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
    "import_all",
    "import_resource",
    "lookup",
    "nearest_misses",
    "validate_all",
    "validate_policy",
]
