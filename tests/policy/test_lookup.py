"""The lookup stage's settings (``cmesh.policy.lookup``)."""

from __future__ import annotations

import pytest

from cmesh.policy import Direction, PolicyRef, SelectorPolicy, Settings

RULE = (PolicyRef("CiliumNetworkPolicy", "default", "p"),)


def _sp(ingress: tuple[PolicyRef, ...], audited: tuple[PolicyRef, ...] = ()) -> SelectorPolicy:
    return SelectorPolicy(
        rules=(),
        entries=(),
        deny_by_default={Direction.INGRESS: ingress, Direction.EGRESS: ()},
        audit_deny_by_default={Direction.INGRESS: audited, Direction.EGRESS: ()},
    )


@pytest.mark.parametrize(
    ("mode", "asked", "expected"),
    [
        ("default", False, False),
        ("default", True, True),
        ("always", False, True),
        ("always", True, True),
        ("never", False, False),
        ("never", True, False),
    ],
    ids=[
        "default-unselected-allows",
        "default-selected-denies",
        "always-unselected-denies",
        "always-selected-denies",
        "never-unselected-allows",
        "never-selected-allows",
    ],
)
def test_default_deny_follows_enable_policy_ref_2_1(mode: str, asked: bool, expected: bool):
    sp = _sp(RULE if asked else ())
    assert Settings(enforcement=mode).default_deny(sp, Direction.INGRESS) is expected
    # per direction (ref §2.1): the egress side asks nothing, so only "always" denies there
    assert Settings(enforcement=mode).default_deny(sp, Direction.EGRESS) is (mode == "always")


def test_default_deny_asked_only_by_an_audited_rule_does_not_count_ref_2_12():
    sp = _sp((), audited=RULE)
    assert Settings().default_deny(sp, Direction.INGRESS) is False
