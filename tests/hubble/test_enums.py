"""Hubble's enums and names, and the policy engine's values they take over (ref §4.1)."""

from __future__ import annotations

import pytest

from cmesh.hubble import DropReason, PolicyMatchType, drop_reason_text
from cmesh.hubble.enums import policy_match_text
from cmesh.policy import DropReason as EngineDropReason


@pytest.mark.parametrize("reason", list(EngineDropReason), ids=lambda r: r.name)
def test_every_engine_drop_reason_is_hubbles_by_number_name_and_text_ref_4_1(reason):
    """The engine's reasons have no strings of their own: Hubble's one table names them."""
    assert DropReason(reason.value).name == reason.name
    if reason is not EngineDropReason.DROP_REASON_UNKNOWN:
        assert drop_reason_text(reason.value) != str(reason.value)


@pytest.mark.parametrize(
    ("match", "text"),
    [
        (PolicyMatchType.NONE, "none"),
        (PolicyMatchType.L3_ONLY, "L3-Only"),
        (PolicyMatchType.L3_L4, "L3-L4"),
        (PolicyMatchType.L4_ONLY, "L4-Only"),
        (PolicyMatchType.ALL, "all"),
        (PolicyMatchType.L3_PROTO, "L3-Proto"),
        (PolicyMatchType.PROTO_ONLY, "Proto-Only"),
    ],
    ids=lambda x: x.name if isinstance(x, PolicyMatchType) else None,
)
def test_policy_match_types_print_as_cilium_prints_them_ref_4_4(match, text):
    assert match.text == text == policy_match_text(match.value)
