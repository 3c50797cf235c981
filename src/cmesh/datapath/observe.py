"""How Hubble describes a flow's ends and its policies (ref §4.1, §4.2).

Each cluster's Hubble describes both ends as *its* ipcache knows them: a local pod with its
endpoint ID, identity, labels, pod name and workload; a remote pod with what the cluster
imported (identity and labels, namespace and pod name); a node as ``host``/``remote-node``; an
outside address as ``world`` or its CIDR identity.  Endpoint IDs are stable small numbers
derived from the pod, as an agent allocates them per node.
"""

from __future__ import annotations

import hashlib

from cmesh.datapath.peers import Mesh, Peer, PeerKind
from cmesh.hubble import Endpoint, Policy, Workload, policy_from_ref
from cmesh.policy.types import PolicyRef


def endpoint_id(cluster: str, namespace: str, pod: str) -> int:
    return (
        1
        + int.from_bytes(
            hashlib.sha256(f"{cluster}/{namespace}/{pod}".encode()).digest()[:2], "big"
        )
        % 4000
    )


def hubble_endpoint(mesh: Mesh, viewer: str, local_node: str, peer: Peer) -> Endpoint:
    """``peer`` as cluster ``viewer``'s Hubble shows it."""
    ident, labels = mesh.identity_seen_by(viewer, local_node, peer)
    ep = peer.endpoint
    if peer.kind is PeerKind.POD and ep is not None:
        view = mesh.views[viewer]
        known = ep.cluster == viewer or peer.ip in view.remote_endpoints
        if known:
            wl = (
                (Workload(ep.pod.workload_name, ep.pod.workload_kind),)
                if ep.pod.workload_kind
                else ()
            )
            return Endpoint(
                ID=endpoint_id(ep.cluster, ep.namespace, ep.name) if ep.cluster == viewer else 0,
                identity=ident,
                cluster_name=ep.cluster,
                namespace=ep.namespace,
                labels=labels,
                pod_name=ep.name,
                workloads=wl,
            )
    return Endpoint(identity=ident, labels=labels)


def policies(refs: tuple[PolicyRef, ...]) -> tuple[Policy, ...]:
    return tuple(policy_from_ref(r.kind, r.name, r.namespace) for r in refs)
