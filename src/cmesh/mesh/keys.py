"""Where ClusterMesh state lives in the kvstore: Cilium's own key names (ref §3.3).

Each cluster's clustermesh-apiserver has its own etcd in Cilium.  cmesh keeps one key space per
cluster under ``clustermesh/<cluster>/`` (in the home's store, or in the store the cluster was
enabled with), and inside it Cilium's layout exactly:

| key (under ``clustermesh/<cluster>/``)            | value                                   |
|---------------------------------------------------|-----------------------------------------|
| ``cilium/cluster-config/<cluster>``               | CiliumClusterConfig JSON                |
| ``cilium/state/identities/v1/id/<id>``            | label string ``k8s:a=b;…;``             |
| ``cilium/state/ip/v1/default/<ip>``               | IPIdentityPair JSON                     |
| ``cilium/state/nodes/v1/<cluster>/<node>``        | Node JSON                               |
| ``cilium/state/services/v1/<cluster>/<ns>/<name>``| ClusterService JSON                     |
| ``cilium/synced/<cluster>/<prefix>``              | sync canary: the prefix is fully written|
| ``cilium/.heartbeat``                             | refreshed under a lease by agents       |

Beside it, what the *local* cluster keeps about its remotes (KVStoreMesh's cache, ref §3.4):
``clustermesh/<local>/cache/<remote>/…`` (the remote's keys, copied), ``…/connections/<remote>``
and ``…/status/<remote>``.
"""

from __future__ import annotations

IDENTITIES = "cilium/state/identities/v1/id/"
IPS = "cilium/state/ip/v1/default/"
HEARTBEAT = "cilium/.heartbeat"


def root(cluster: str) -> str:
    return f"clustermesh/{cluster}/"


def cluster_config(cluster: str) -> str:
    return f"cilium/cluster-config/{cluster}"


def nodes(cluster: str) -> str:
    return f"cilium/state/nodes/v1/{cluster}/"


def services(cluster: str) -> str:
    return f"cilium/state/services/v1/{cluster}/"


def synced(cluster: str, prefix: str) -> str:
    return f"cilium/synced/{cluster}/{prefix.rstrip('/')}"


def state_prefixes(cluster: str) -> dict[str, str]:
    """The synced prefixes, by the name ``clustermesh status`` gives them (ref §3.6)."""
    return {
        "nodes": nodes(cluster).rstrip("/"),
        "endpoints": IPS.rstrip("/"),
        "identities": IDENTITIES.rstrip("/"),
        "services": services(cluster).rstrip("/"),
    }


def export_epoch(cluster: str) -> str:
    """Bumped with every change of a cluster's exported state (a cheap freshness probe)."""
    return root(cluster) + "epoch"


#: One key per cluster holding its export epoch, so a watcher reads every remote's freshness
#: with a single range read.
EPOCHS = "clustermesh/.epochs/"


def epoch_index(cluster: str) -> str:
    return EPOCHS + cluster


def cache(local: str, remote: str) -> str:
    return f"{root(local)}cache/{remote}/"


def connection(local: str, remote: str) -> str:
    return f"{root(local)}connections/{remote}"


def connections(local: str) -> str:
    return f"{root(local)}connections/"


def status(local: str, remote: str) -> str:
    return f"{root(local)}status/{remote}"
