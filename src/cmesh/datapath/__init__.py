"""The simulated datapath: peers and the ipcache, the policy stage, service translation.

Names are imported on first use (PEP 562) so that commands load only what they need."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cmesh._lazy import lazy_exports

_EXPORTS: dict[str, tuple[str, str]] = {
    "FlowVerdict": ("cmesh.datapath.verdict", "FlowVerdict"),
    "Mesh": ("cmesh.datapath.peers", "Mesh"),
    "Peer": ("cmesh.datapath.peers", "Peer"),
    "PeerKind": ("cmesh.datapath.peers", "PeerKind"),
    "Side": ("cmesh.datapath.verdict", "Side"),
    "Trace": ("cmesh.datapath.tracer", "Trace"),
    "decide": ("cmesh.datapath.verdict", "decide"),
    "load_mesh": ("cmesh.datapath.load", "load_mesh"),
    "parse_end": ("cmesh.datapath.tracer", "parse_end"),
    "query_end": ("cmesh.datapath.tracer", "query_end"),
    "trace": ("cmesh.datapath.tracer", "trace"),
}

__all__ = [
    "FlowVerdict",
    "Mesh",
    "Peer",
    "PeerKind",
    "Side",
    "Trace",
    "decide",
    "load_mesh",
    "parse_end",
    "query_end",
    "trace",
]

if TYPE_CHECKING:
    from cmesh.datapath.load import load_mesh
    from cmesh.datapath.peers import Mesh, Peer, PeerKind
    from cmesh.datapath.tracer import Trace, parse_end, query_end, trace
    from cmesh.datapath.verdict import FlowVerdict, Side, decide


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
