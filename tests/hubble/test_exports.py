"""cmesh.hubble's public surface (STYLE.md: each package's ``__init__`` lists what others use)."""

from __future__ import annotations

import cmesh.hubble as hubble


def test_every_exported_name_exists_once():
    assert [name for name in hubble.__all__ if not hasattr(hubble, name)] == []
    assert len(set(hubble.__all__)) == len(hubble.__all__)


def test_what_the_datapath_and_cli_need_is_exported():
    needed = {
        "Flow",
        "Endpoint",
        "IP",
        "TCP",
        "UDP",
        "ICMPv4",
        "Layer7",
        "HTTP",
        "DNS",
        "Policy",
        "as_trace",
        "as_drop",
        "as_policy_verdict",
        "as_l7",
        "make_uuid",
        "node_name",
        "FlowStore",
        "build_request",
        "parse_filters",
        "matches",
        "Printer",
        "PrinterOptions",
        "Output",
    }
    assert needed <= set(hubble.__all__)


def test_verdict_is_the_policy_engines_enum():
    """The datapath hands the engine's verdicts over without converting them."""
    from cmesh.policy import Verdict

    assert hubble.Verdict is Verdict
