"""Global services: the annotations, the merging rule and affinity (ref §3.7)."""

from __future__ import annotations

import pytest

from cmesh.services import Backend, ClusterService, ServicePort, build_service
from cmesh.services.annotations import Affinity, global_settings

PORTS = (ServicePort("http", 80, "TCP", 8080),)
LOCAL = {"http": (Backend("10.1.0.5", 8080, "TCP", "c1"), Backend("10.1.0.4", 8080, "TCP", "c1"))}


def _remote(cluster: str, *, shared: bool = True, name: str = "api") -> ClusterService:
    return ClusterService(
        cluster, 2, "default", name, {}, {"10.2.0.9": {"http": (8080, "TCP")}}, shared=shared
    )


def _svc(annotations: dict[str, str], remotes=()):
    return build_service(
        "c1", "default", "api", "ClusterIP", "10.96.0.10", PORTS, annotations, LOCAL, remotes
    )


@pytest.mark.parametrize(
    "annotations, global_, shared, affinity",
    [
        ({"service.cilium.io/global": "True"}, True, True, Affinity.NONE),
        ({"io.cilium/global-service": "true"}, True, True, Affinity.NONE),
        (
            {"service.cilium.io/global": "false", "io.cilium/global-service": "true"},
            False,
            False,
            Affinity.NONE,
        ),
        (
            {"service.cilium.io/global": "true", "io.cilium/shared-service": "false"},
            True,
            False,
            Affinity.NONE,
        ),
        ({"service.cilium.io/shared": "true"}, False, False, Affinity.NONE),
        (
            {"service.cilium.io/global": "true", "service.cilium.io/affinity": "Local"},
            True,
            True,
            Affinity.LOCAL,
        ),
        ({"service.cilium.io/affinity": "remote"}, False, False, Affinity.NONE),
    ],
    ids=[
        "global-case-insensitive",
        "legacy-alias",
        "current-key-first",
        "shared-alias",
        "shared-ignored-when-not-global",
        "affinity",
        "affinity-ignored-when-not-global",
    ],
)
def test_annotations_current_key_then_alias_ref_3_7(annotations, global_, shared, affinity):
    gs = global_settings(annotations)
    assert (gs.global_, gs.shared, gs.affinity, gs.problems) == (global_, shared, affinity, ())


def test_an_unknown_affinity_is_reported_and_treated_as_none_ref_3_7():
    gs = global_settings({"service.cilium.io/global": "true", "service.cilium.io/affinity": "x"})
    assert gs.affinity is Affinity.NONE and "'x'" in gs.problems[0]


@pytest.mark.parametrize(
    "annotations, remote, merged",
    [
        ({"service.cilium.io/global": "true"}, _remote("c2"), True),
        ({"service.cilium.io/global": "true"}, _remote("c2", shared=False), False),
        ({"service.cilium.io/global": "true"}, _remote("c2", name="other"), False),
        ({"service.cilium.io/global": "true"}, _remote("c1"), False),
        ({}, _remote("c2"), False),
    ],
    ids=["global-and-shared", "remote-not-shared", "other-name", "own-cluster", "not-global"],
)
def test_remote_backends_only_of_a_global_service_shared_there_ref_3_7(annotations, remote, merged):
    svc = _svc(annotations, [remote])
    ips = [b.ip for b in svc.backends_for(PORTS[0])]
    assert ips == (["10.1.0.4", "10.1.0.5", "10.2.0.9"] if merged else ["10.1.0.4", "10.1.0.5"])


@pytest.mark.parametrize(
    "affinity, preferred",
    [("local", {"c1"}), ("remote", {"c2"}), ("none", {"c1", "c2"})],
    ids=["local", "remote", "none"],
)
def test_affinity_prefers_backends_and_selection_is_stable_ref_3_7(affinity, preferred):
    svc = _svc(
        {"service.cilium.io/global": "true", "service.cilium.io/affinity": affinity},
        [_remote("c2")],
    )
    assert {b.cluster for b in svc.preferred(PORTS[0])} == preferred
    chosen = {
        svc.select(PORTS[0], f"10.1.0.9:{port}|default/api|80") for port in range(40000, 40064)
    }
    assert {b.cluster for b in chosen} == preferred  # every preferred backend, only those
    assert svc.select(PORTS[0], "k") == svc.select(PORTS[0], "k")
