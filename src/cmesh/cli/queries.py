"""``policy trace --queries``: one JSON query per line in, one JSON result per line out.

The query and result formats are documented in docs/trace-format.md; keep them stable.
"""

from __future__ import annotations

import json
from typing import IO, Any

from cmesh.cli.tracefmt import trace_dict
from cmesh.datapath import Mesh, query_end, trace
from cmesh.errors import CmeshError
from cmesh.policy import Protocol


def run_query(mesh: Mesh, context: str, q: dict[str, Any]) -> dict[str, Any]:
    from cmesh.datapath.l7trace import L7Query
    from cmesh.datapath.tracer import trace_fqdn

    src = query_end(mesh, q.get("src") or {}, context, dst=False)
    proto = Protocol.ICMP if "icmp_type" in q else Protocol.parse(str(q.get("protocol") or "TCP"))
    port = int(q.get("icmp_type", q.get("port", 0)) or 0)
    l7 = L7Query.from_query(q)
    dst_q = q.get("dst") or {}
    if "fqdn" in dst_q:
        return trace_dict(trace_fqdn(mesh, src, str(dst_q["fqdn"]), proto, port, l7=l7))
    dst = query_end(mesh, dst_q, context, dst=True)
    return trace_dict(trace(mesh, src, dst, proto, port, l7=l7))


def run_queries(mesh: Mesh, context: str, stream: IO[str], out: IO[str]) -> None:
    for n, line in enumerate(stream, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        q: Any = None
        try:
            q = json.loads(line)
            if not isinstance(q, dict):
                raise ValueError("a query is a JSON object")
            result = run_query(mesh, context, q)
        except (ValueError, KeyError, CmeshError) as exc:
            msg = exc.render() if isinstance(exc, CmeshError) else str(exc)
            result = {"line": n, "error": msg}
        if isinstance(q, dict) and "id" in q:
            result = {"id": q["id"], **result}
        out.write(json.dumps(result, separators=(",", ":")) + "\n")
