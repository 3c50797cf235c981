"""How observed things are written in a policy: selectors, names, port ranges, HTTP paths.

* **Selectors** use a workload's identity-relevant labels (ref §2.10 — never
  ``pod-template-hash``, ``controller-revision-hash`` or other excluded keys), without the labels
  Cilium adds itself (namespace, cluster, service account, namespace labels, ref §1.13); a peer in
  another namespace gets ``k8s:io.kubernetes.pod.namespace``, a peer in another cluster gets
  ``io.cilium.k8s.policy.cluster`` (ref §1.14: without it a selector means the local cluster).
* **Ports** become ranges (``port`` + ``endPort``, ref §1.8) only where they are contiguous: a
  range is then exactly the list, only shorter, and never lets through a port nobody used.  A
  ``ports`` list holds at most 40 entries, so longer lists are split over several port rules.
* **HTTP paths** (ref §2.7: RE2, full match) keep literal segments and generalise variable ones:
  numbers, UUIDs and long hexadecimal ids become character classes, so ``/orders/123`` and
  ``/orders/456`` are one rule ``/orders/[0-9]+``.  A path seen with a query string also allows
  one (``(\\?.*)?``), since ``:path`` includes it.

>>> port_ranges([80, 8080, 8081, 8082, 9000])
[(80, 80), (8080, 8082), (9000, 9000)]
>>> generalize_path("/api/v1/orders/123")
'/api/v1/orders/[0-9]+'
>>> generalize_path("/a.b/3f2a9c1e-77aa-4b1c-9d2e-0123456789ab?x=1")
'/a\\\\.b/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(\\\\?.*)?'
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from cmesh.labels import (
    POD_NAMESPACE_LABEL,
    POD_NAMESPACE_META_LABELS_PREFIX,
    POLICY_LABEL_CLUSTER,
    POLICY_LABEL_SERVICEACCOUNT,
    LabelFilter,
    Labels,
)

MAX_PORTS = 40
_ADDED_BY_CILIUM = (POD_NAMESPACE_LABEL, POLICY_LABEL_CLUSTER, POLICY_LABEL_SERVICEACCOUNT)
NAMESPACE_KEY = "k8s:" + POD_NAMESPACE_LABEL
CLUSTER_KEY = POLICY_LABEL_CLUSTER
_NUMBER = re.compile(r"^[0-9]+$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_HEX = re.compile(r"^(?=.*[0-9])[0-9a-fA-F]{16,}$")
_UUID_RE = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_RE2_SPECIAL = re.compile(r"([\\.^$|?*+()\[\]{}])")
_DNS1123 = re.compile(r"[^a-z0-9-]+")


def workload_labels(labels: Labels) -> dict[str, str]:
    """The labels that pick out a workload: identity-relevant, not added by Cilium."""
    keep = LabelFilter.default()
    out: dict[str, str] = {}
    for lb in labels.labels():
        if lb.source != "k8s" or not keep.relevant(lb):
            continue
        if lb.key in _ADDED_BY_CILIUM or lb.key.startswith(POD_NAMESPACE_META_LABELS_PREFIX):
            continue
        out[lb.key] = lb.value
    if not out:  # a pod with no labels of its own: its service account is what is left
        sa = labels.get(POLICY_LABEL_SERVICEACCOUNT)
        if sa is not None:
            out["k8s:" + POLICY_LABEL_SERVICEACCOUNT] = sa.value
    return dict(sorted(out.items()))


def peer_labels(
    labels: Labels, policy_namespace: str, subject_cluster: str, *, explicit_cluster: bool = False
) -> dict[str, str]:
    """``matchLabels`` selecting a peer identity from a policy in ``policy_namespace``."""
    out = workload_labels(labels)
    ns = labels.get(POD_NAMESPACE_LABEL)
    if ns is not None and ns.value != policy_namespace:
        out[NAMESPACE_KEY] = ns.value
    cl = labels.get(POLICY_LABEL_CLUSTER)
    if cl is not None and (cl.value != subject_cluster or explicit_cluster):
        out[CLUSTER_KEY] = cl.value
        if ns is not None:
            out[NAMESPACE_KEY] = ns.value  # cross-cluster peers name their namespace too
    return dict(sorted(out.items()))


def policy_name(*parts: str) -> str:
    """A DNS-1123 name from ``parts`` (``frontend``, ``generated`` → ``frontend-generated``)."""
    text = "-".join(p for p in parts if p).lower()
    text = _DNS1123.sub("-", text).strip("-")
    return text[:253] or "generated"


def port_ranges(ports: Iterable[int]) -> list[tuple[int, int]]:
    """Contiguous runs of ``ports`` as inclusive ranges (exactly the same ports)."""
    out: list[tuple[int, int]] = []
    for p in sorted(set(ports)):
        if out and p == out[-1][1] + 1:
            out[-1] = (out[-1][0], p)
        else:
            out.append((p, p))
    return out


def port_entries(ports: Iterable[int], protocol: str) -> list[dict[str, object]]:
    """``toPorts[].ports`` entries for ``ports`` of ``protocol``."""
    out: list[dict[str, object]] = []
    for lo, hi in port_ranges(ports):
        entry: dict[str, object] = {"port": str(lo), "protocol": protocol}
        if hi > lo:
            entry["endPort"] = hi
        out.append(entry)
    return out


def chunks(items: list[dict[str, object]], size: int = MAX_PORTS) -> list[list[dict[str, object]]]:
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]


def _escape(segment: str) -> str:
    return _RE2_SPECIAL.sub(r"\\\1", segment)


def _segment(seg: str) -> str:
    if _NUMBER.match(seg):
        return "[0-9]+"
    if _UUID.match(seg):
        return _UUID_RE
    if _HEX.match(seg):
        return "[0-9a-fA-F]+"
    return _escape(seg)


def generalize_path(path: str) -> str:
    """An RE2 pattern matching ``path`` and its siblings that differ only in variable segments."""
    raw, q, _query = path.partition("?")
    body = "/".join(_segment(s) for s in (raw or "/").split("/"))
    return body + ("(\\?.*)?" if q else "")


def http_rules(requests: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    """One ``{method, path}`` rule per method and generalised path, sorted (ref §1.10)."""
    seen: dict[tuple[str, str], None] = {}
    plain: set[tuple[str, str]] = set()
    for method, path in requests:
        g = generalize_path(path)
        key = (method.upper() or "GET", g)
        if g.endswith("(\\?.*)?"):
            plain.add((key[0], g[: -len("(\\?.*)?")]))
        seen[key] = None
    rules = [k for k in seen if k not in plain]  # a path seen with a query covers the bare one
    return [{"method": m, "path": p} for m, p in sorted(rules)]
