"""The simulated datapath: peers and the ipcache, the policy stage, service translation."""

from cmesh.datapath.load import load_mesh
from cmesh.datapath.peers import Mesh, Peer, PeerKind
from cmesh.datapath.trace import Trace, parse_end, query_end, trace
from cmesh.datapath.verdict import FlowVerdict, Side, decide

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
