"""L7 matching (pure core): HTTP rules with RE2, DNS names and patterns (ref §1.7, §1.10, §2.7).

Names are imported on first use (PEP 562) so that commands load only what they need."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cmesh._lazy import lazy_exports

_EXPORTS: dict[str, tuple[str, str]] = {
    "DNSRule": ("cmesh.l7.rules", "DNSRule"),
    "HTTPMatch": ("cmesh.l7.http", "HTTPMatch"),
    "HTTPRequest": ("cmesh.l7.http", "HTTPRequest"),
    "HTTPRule": ("cmesh.l7.rules", "HTTPRule"),
    "compile_re2": ("cmesh.l7.regex", "compile_re2"),
    "fqdn": ("cmesh.l7.dns", "fqdn"),
    "full_match": ("cmesh.l7.regex", "full_match"),
    "match_http": ("cmesh.l7.http", "match_http"),
    "matches_name": ("cmesh.l7.dns", "matches_name"),
    "matches_pattern": ("cmesh.l7.dns", "matches_pattern"),
    "name_or_pattern_matches": ("cmesh.l7.dns", "name_or_pattern_matches"),
    "pattern_regex": ("cmesh.l7.dns", "pattern_regex"),
}

__all__ = [
    "DNSRule",
    "HTTPMatch",
    "HTTPRequest",
    "HTTPRule",
    "compile_re2",
    "fqdn",
    "full_match",
    "match_http",
    "matches_name",
    "matches_pattern",
    "name_or_pattern_matches",
    "pattern_regex",
]

if TYPE_CHECKING:
    from cmesh.l7.dns import (
        fqdn,
        matches_name,
        matches_pattern,
        name_or_pattern_matches,
        pattern_regex,
    )
    from cmesh.l7.http import HTTPMatch, HTTPRequest, match_http
    from cmesh.l7.regex import compile_re2, full_match
    from cmesh.l7.rules import DNSRule, HTTPRule


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
