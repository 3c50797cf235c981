"""Where things live in the kvstore (one place, so every reader agrees).

| key                                              | value                                  |
|--------------------------------------------------|----------------------------------------|
| ``cmesh/clusters/<context>``                     | ClusterConfig JSON                     |
| ``cmesh/epoch``                                  | bumped by install/uninstall/config     |
| ``/registry/<cluster>/<plural>/<ns>/<name>``     | ``{"object": …, "source": "file:line"}`` |
| ``/registry/<cluster>/<plural>/<name>``          | the same, for cluster-scoped kinds     |
| ``/registry/<cluster>/.epoch``                   | bumped by every change of the cluster  |

The ``/registry`` layout is the Kubernetes API server's, with the cluster name in front.
"""

from __future__ import annotations

from cmesh.cluster import IDENTITY_KIND, ObjKey
from cmesh.model import KINDS

CLUSTERS_PREFIX = "cmesh/clusters/"
GLOBAL_EPOCH = "cmesh/epoch"

_PLURALS: dict[str, tuple[str, bool]] = {k: (i.plural, i.namespaced) for k, i in KINDS.items()}
_PLURALS[IDENTITY_KIND] = ("ciliumidentities", False)
_KINDS_BY_PLURAL = {p: k for k, (p, _) in _PLURALS.items()}


def cluster_key(context: str) -> str:
    return CLUSTERS_PREFIX + context


def registry_prefix(cluster: str) -> str:
    return f"/registry/{cluster}/"


def epoch_key(cluster: str) -> str:
    return f"/registry/{cluster}/.epoch"


def kind_prefix(cluster: str, kind: str, namespace: str = "") -> str:
    plural, namespaced = _PLURALS[kind]
    base = f"/registry/{cluster}/{plural}/"
    return base + f"{namespace}/" if namespaced and namespace else base


def object_key(cluster: str, key: ObjKey) -> str:
    kind, ns, name = key
    plural, namespaced = _PLURALS[kind]
    if namespaced:
        return f"/registry/{cluster}/{plural}/{ns}/{name}"
    return f"/registry/{cluster}/{plural}/{name}"


def parse_object_key(cluster: str, key: str) -> ObjKey | None:
    rest = key[len(registry_prefix(cluster)) :]
    parts = rest.split("/")
    kind = _KINDS_BY_PLURAL.get(parts[0])
    if kind is None:
        return None
    if _PLURALS[kind][1] and len(parts) == 3:
        return (kind, parts[1], parts[2])
    if not _PLURALS[kind][1] and len(parts) == 2:
        return (kind, "", parts[1])
    return None
