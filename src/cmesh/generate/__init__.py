"""Least-privilege policies from observed flows, verified by replay; audit and promotion.

The public surface (STYLE.md rule 6), issue 9:

* what each workload was seen doing (``observe.py``): :func:`observe`, :class:`Subject`;
* how it is written (``shapes.py``): selectors, port ranges, generalised HTTP paths;
* the policies (``build.py``): :func:`build_all`;
* validation, verification by replay and permissiveness (``verify.py``): :func:`verify`;
* all of it in one call (``run.py``): :func:`generate`, :func:`render_yaml`;
* audit report and promotion (``audit.py``): :func:`audit_report`, :func:`promote`.

Names are imported on first use (PEP 562) so that commands load only what they need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cmesh._lazy import lazy_exports

_EXPORTS: dict[str, tuple[str, str]] = {
    "AuditEntry": ("cmesh.generate.audit", "AuditEntry"),
    "Generated": ("cmesh.generate.run", "Generated"),
    "GenerationNotVerified": ("cmesh.generate.run", "GenerationNotVerified"),
    "PromotionRefused": ("cmesh.generate.audit", "PromotionRefused"),
    "Subject": ("cmesh.generate.observe", "Subject"),
    "Verification": ("cmesh.generate.verify", "Verification"),
    "audit_report": ("cmesh.generate.audit", "audit_report"),
    "build_all": ("cmesh.generate.build", "build_all"),
    "generalize_path": ("cmesh.generate.shapes", "generalize_path"),
    "generate": ("cmesh.generate.run", "generate"),
    "observe": ("cmesh.generate.observe", "observe"),
    "port_ranges": ("cmesh.generate.shapes", "port_ranges"),
    "promote": ("cmesh.generate.audit", "promote"),
    "render_yaml": ("cmesh.generate.run", "render_yaml"),
    "verify": ("cmesh.generate.verify", "verify"),
}

__all__ = [
    "AuditEntry",
    "Generated",
    "GenerationNotVerified",
    "PromotionRefused",
    "Subject",
    "Verification",
    "audit_report",
    "build_all",
    "generalize_path",
    "generate",
    "observe",
    "port_ranges",
    "promote",
    "render_yaml",
    "verify",
]

if TYPE_CHECKING:
    from cmesh.generate.audit import AuditEntry, PromotionRefused, audit_report, promote
    from cmesh.generate.build import build_all
    from cmesh.generate.observe import Subject, observe
    from cmesh.generate.run import Generated, GenerationNotVerified, generate, render_yaml
    from cmesh.generate.shapes import generalize_path, port_ranges
    from cmesh.generate.verify import Verification, verify


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
