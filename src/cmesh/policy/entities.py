"""Entities and the selectors they stand for (ref §1.4, ``pkg/policy/api/entity.go``)."""

from __future__ import annotations

from cmesh.labels import (
    POLICY_LABEL_CLUSTER,
    SOURCE_K8S,
    SOURCE_RESERVED,
    WILDCARD,
    EndpointSelector,
    req_in,
)
from cmesh.labels.selector import Operator, Requirement

#: [1.19] CRD enum of entities; ``cluster-mesh`` is main/1.20 only.
ENTITIES = (
    "all",
    "world",
    "world-ipv4",
    "world-ipv6",
    "cluster",
    "host",
    "init",
    "ingress",
    "unmanaged",
    "remote-node",
    "health",
    "none",
    "kube-apiserver",
)


def _reserved(name: str) -> EndpointSelector:
    return EndpointSelector((Requirement(name, SOURCE_RESERVED, Operator.EXISTS),))


def entity_selectors(entity: str, cluster: str) -> tuple[EndpointSelector, ...]:
    """The selectors an entity expands to for a policy of cluster ``cluster``.

    ``cluster`` is everything in the *local* cluster (its pods by the cluster label) plus every
    node of the mesh; ``world`` is everything outside; ``all`` is the wildcard (ref §1.4).
    """
    if entity == "all":
        return (WILDCARD,)
    if entity == "world":
        return (_reserved("world"), _reserved("world-ipv4"), _reserved("world-ipv6"))
    if entity == "cluster":
        return (
            *(
                _reserved(n)
                for n in (
                    "host",
                    "remote-node",
                    "init",
                    "ingress",
                    "health",
                    "unmanaged",
                    "kube-apiserver",
                )
            ),
            EndpointSelector((req_in(SOURCE_K8S, POLICY_LABEL_CLUSTER, cluster),)),
        )
    return (_reserved(entity),)
