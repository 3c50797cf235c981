"""Label selectors as written in policies and workloads (k8s ``LabelSelector`` shape).

This is the user-facing form only; matching (label sources, ``any:``, namespace injection)
lives in :mod:`cmesh.labels`.  Structure is checked here as the API server checks it: the
operator is one of the four, ``In``/``NotIn`` need values, ``Exists``/``DoesNotExist`` take none.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from cmesh.model.base import Model

Operator = Literal["In", "NotIn", "Exists", "DoesNotExist"]


class Requirement(Model):
    key: str
    operator: Operator
    values: list[str] | None = None

    @model_validator(mode="after")
    def _values_fit_operator(self) -> Requirement:
        if self.operator in ("In", "NotIn") and not self.values:
            raise ValueError(f"operator {self.operator} needs a non-empty 'values' list")
        if self.operator in ("Exists", "DoesNotExist") and self.values:
            raise ValueError(f"operator {self.operator} takes no 'values'; remove them")
        return self


class EndpointSelector(Model):
    """``{matchLabels, matchExpressions}``; ``{}`` selects everything (ref §1.12)."""

    match_labels: dict[str, str] | None = Field(None, alias="matchLabels")
    match_expressions: list[Requirement] | None = Field(None, alias="matchExpressions")

    @property
    def is_wildcard(self) -> bool:
        return not self.match_labels and not self.match_expressions
