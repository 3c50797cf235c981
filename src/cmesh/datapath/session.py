"""Run a tool from a pod against the home's mesh and record what Hubble would see.

This is the I/O edge of the simulated datapath: it loads the mesh (with the world hosts table
and the names the DNS proxy learned), runs the tool on a :class:`Simulator`, then stores the
flows in each cluster's flow ring, adds them to the clusters' metrics, and keeps the DNS
answers the proxy learned (with their TTL) for toFQDNs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from cmesh.datapath.load import FQDN_PREFIX, load_mesh
from cmesh.datapath.sim import Simulator
from cmesh.datapath.tools import ToolResult, run
from cmesh.datapath.tracer import find_pod
from cmesh.kvstore import Put, Store


def save_learned(store: Store, sim: Simulator, now: float) -> None:
    ops = []
    seen: dict[str, dict[str, Any]] = {}
    for cluster, _pod, name, ips, ttl in sim.learned:
        for ip in ips:
            key = f"{FQDN_PREFIX}{cluster}/{ip}"
            if key not in seen:
                kv = store.get(key)
                seen[key] = json.loads(kv.value) if kv else {"ip": ip, "names": {}}
            seen[key]["names"][name] = now + ttl
    for key, d in seen.items():
        ops.append(Put(key, json.dumps(d, sort_keys=True).encode()))
    if ops:
        store.txn([], ops)


def record(store: Store, sim: Simulator) -> None:
    from cmesh.hubble import FlowStore
    from cmesh.metrics import add, count

    fs = FlowStore(store)
    for cluster, flows in sim.flows.items():
        if flows:
            fs.add(cluster, flows)
            add(store, cluster, count(flows))


def simulator(home: Any, now: float | None = None) -> Simulator:
    now = time.time() if now is None else now
    return Simulator(load_mesh(home), int(now * 1e9))


def exec_tool(
    home: Any, cluster: str, pod: str, argv: Sequence[str], *, now: float | None = None
) -> ToolResult:
    """``cmesh exec``: run ``argv`` in ``pod`` (``NS/NAME`` or ``NAME``) of ``cluster``."""
    now = time.time() if now is None else now
    sim = simulator(home, now)
    ns, _, name = pod.rpartition("/")
    src = find_pod(sim.mesh, cluster, ns or "default", name)
    result = run(sim, src, list(argv))
    record(home.store, sim)
    save_learned(home.store, sim, now)
    return result
