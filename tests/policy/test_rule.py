"""The engine's rule values (``cmesh.policy.rule``)."""

from __future__ import annotations

import pytest

from cmesh.l7.rules import DNSRule, HTTPRule
from cmesh.policy.rule import L7

GET = HTTPRule(method="GET", path="/a")
NAME = DNSRule(match_name="a.example")
TOPIC = {"topic": "orders"}  # a Kafka rule: kept as written (ref §1.10)


@pytest.mark.parametrize(
    ("l7", "rules"),
    [
        (L7("http", http=(GET,)), (GET,)),
        (L7("dns", dns=(NAME,)), (NAME,)),
        (L7("kafka", other=(TOPIC,)), (TOPIC,)),
        (L7("http"), ()),
    ],
    ids=["http", "dns", "kafka", "none"],
)
def test_l7_rules_are_those_of_its_one_parser_ref_1_10(l7: L7, rules: tuple[object, ...]):
    assert l7.rules == rules
