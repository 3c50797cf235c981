"""The connectivity test spec: expectations about flows, and coverage expectations.

A spec is data about *intent*, independent of how it is checked: each expectation names a set
of sources and a destination, ports, optionally an HTTP request or a DNS query, and whether the
flows must be allowed or denied.  :mod:`cmesh.analysis.assertions` expands it to concrete
flows — one source pod, one destination address and port, one request — and asks the policy
engine; a live datapath can send the very same flows as packets.  The format is documented in
``docs/analysis.md``; errors say which expectation and field are wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cmesh.errors import InvalidArgument
from cmesh.policy import Direction, Protocol

API_VERSION = "cmesh.io/v1alpha1"
KIND = "ConnectivityTest"
_PORT = re.compile(r"^(\d{1,5})(?:-(\d{1,5}))?(?:/([A-Za-z0-9]+))?$")


@dataclass(frozen=True, slots=True)
class Selector:
    """Pods by cluster, namespace, labels, or one pod/workload name (all fields ANDed)."""

    clusters: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    pod: str = ""


@dataclass(frozen=True, slots=True)
class Target:
    """A destination: pods (a selector), a Service, an FQDN, a CIDR or an IP address."""

    pods: Selector | None = None
    service: str = ""  # NS/NAME, as the source's cluster load-balances it
    fqdn: str = ""
    cidr: str = ""

    def __str__(self) -> str:
        if self.service:
            return f"service {self.service}"
        if self.fqdn:
            return f"fqdn {self.fqdn}"
        if self.cidr:
            return f"cidr {self.cidr}"
        return "pods"


@dataclass(frozen=True, slots=True)
class HTTPCheck:
    method: str = "GET"
    path: str = "/"
    host: str = ""
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Expectation:
    name: str
    src: Selector
    dst: Target
    ports: tuple[tuple[Protocol, int], ...]
    expect_allow: bool
    http: HTTPCheck | None = None
    dns: str = ""
    index: int = 0


@dataclass(frozen=True, slots=True)
class Coverage:
    """Every pod the selector covers must be selected by some policy in ``directions``."""

    name: str
    pods: Selector
    directions: tuple[Direction, ...]
    index: int = 0


@dataclass
class Spec:
    name: str
    file: str
    expectations: list[Expectation] = field(default_factory=list)
    coverage: list[Coverage] = field(default_factory=list)


def _err(file: str, path: str, msg: str, hint: str = "") -> InvalidArgument:
    return InvalidArgument(f"{path}: {msg}", where=file, hint=hint or "see docs/analysis.md")


def _strs(v: Any) -> tuple[str, ...]:
    if v is None:
        return ()
    return tuple(str(x) for x in v) if isinstance(v, list) else (str(v),)


def _selector(v: Any, file: str, path: str) -> Selector:
    if not isinstance(v, dict):
        raise _err(file, path, "expected a mapping (cluster, namespace, labels, pod)")
    unknown = set(v) - {"cluster", "namespace", "labels", "pod"}
    if unknown:
        raise _err(file, path, f"unknown field(s) {', '.join(sorted(unknown))}")
    labels = v.get("labels") or {}
    if not isinstance(labels, dict):
        raise _err(file, f"{path}.labels", "expected a mapping of label to value")
    return Selector(
        _strs(v.get("cluster")),
        _strs(v.get("namespace")),
        tuple(sorted((str(k), str(x)) for k, x in labels.items())),
        str(v.get("pod") or ""),
    )


def _target(v: Any, file: str, path: str) -> Target:
    if not isinstance(v, dict):
        raise _err(file, path, "expected a mapping")
    for key in ("service", "fqdn", "cidr"):
        if key in v:
            if len(v) > (2 if "cluster" in v and key == "service" else 1):
                raise _err(file, path, f"{key} stands alone (with cluster for a service)")
            if key == "service" and "cluster" in v:
                raise _err(file, path, "a service is the source cluster's; drop cluster")
            return Target(**{key: str(v[key])})
    return Target(pods=_selector(v, file, path))


def parse_port(text: Any, file: str, path: str) -> list[tuple[Protocol, int]]:
    m = _PORT.match(str(text).strip())
    if not m:
        raise _err(
            file, path, f"cannot read port {text!r}", "write 80, 80/TCP, 53/UDP or 8000-8002/TCP"
        )
    lo = int(m.group(1))
    hi = int(m.group(2) or lo)
    try:
        proto = Protocol.parse(m.group(3) or "TCP")
    except ValueError as exc:
        raise _err(file, path, str(exc)) from None
    if not 0 <= lo <= hi <= 65535 or hi - lo > 64:
        raise _err(file, path, f"port range {text} is out of bounds (at most 65 ports)")
    return [(proto, p) for p in range(lo, hi + 1)]


def _expectation(i: int, v: Any, file: str) -> Expectation:
    path = f"expectations[{i}]"
    if not isinstance(v, dict):
        raise _err(file, path, "expected a mapping")
    unknown = set(v) - {"name", "from", "to", "ports", "http", "dns", "expect"}
    if unknown:
        raise _err(file, path, f"unknown field(s) {', '.join(sorted(unknown))}")
    for key in ("from", "to", "expect"):
        if key not in v:
            raise _err(file, path, f"`{key}` is required")
    if v["expect"] not in ("allow", "deny"):
        raise _err(file, f"{path}.expect", "must be allow or deny")
    ports = [
        p
        for j, x in enumerate(_strs(v.get("ports")))
        for p in parse_port(x, file, f"{path}.ports[{j}]")
    ]
    http = None
    if v.get("http") is not None:
        h = v["http"]
        if not isinstance(h, dict):
            raise _err(file, f"{path}.http", "expected {method, path, host, headers}")
        http = HTTPCheck(
            str(h.get("method", "GET")),
            str(h.get("path", "/")),
            str(h.get("host", "")),
            tuple((str(k), str(x)) for k, x in (h.get("headers") or {}).items()),
        )
    dns = ""
    if v.get("dns") is not None:
        d = v["dns"]
        dns = str(d.get("name") if isinstance(d, dict) else d)
        ports = ports or [(Protocol.UDP, 53)]
    if not ports:
        raise _err(file, f"{path}.ports", "give at least one port, e.g. [8080/TCP]")
    return Expectation(
        str(v.get("name") or f"expectation {i}"),
        _selector(v["from"], file, f"{path}.from"),
        _target(v["to"], file, f"{path}.to"),
        tuple(ports),
        v["expect"] == "allow",
        http,
        dns,
        i,
    )


def _coverage(i: int, v: Any, file: str) -> Coverage:
    path = f"coverage[{i}]"
    if not isinstance(v, dict):
        raise _err(file, path, "expected a mapping")
    unknown = set(v) - {"name", "pods", "selected-by"}
    if unknown:
        raise _err(file, path, f"unknown field(s) {', '.join(sorted(unknown))}")
    sel = str(v.get("selected-by", "ingress"))
    dirs = {
        "ingress": (Direction.INGRESS,),
        "egress": (Direction.EGRESS,),
        "both": (Direction.INGRESS, Direction.EGRESS),
    }.get(sel)
    if dirs is None:
        raise _err(file, f"{path}.selected-by", "must be ingress, egress or both")
    return Coverage(
        str(v.get("name") or f"coverage {i}"),
        _selector(v.get("pods") or {}, file, f"{path}.pods"),
        dirs,
        i,
    )


def parse_spec(text: str, file: str) -> Spec:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidArgument(f"not YAML: {exc}", where=file) from None
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise _err(file, "kind", f"a connectivity test spec has kind: {KIND}")
    if data.get("apiVersion") != API_VERSION:
        raise _err(file, "apiVersion", f"expected {API_VERSION}")
    spec = data.get("spec") or {}
    name = str((data.get("metadata") or {}).get("name") or Path(file).stem)
    out = Spec(name, file)
    out.expectations = [
        _expectation(i, v, file) for i, v in enumerate(spec.get("expectations") or [])
    ]
    out.coverage = [_coverage(i, v, file) for i, v in enumerate(spec.get("coverage") or [])]
    if not out.expectations and not out.coverage:
        raise _err(file, "spec", "no expectations and no coverage: nothing to test")
    return out


def read_spec(path: str) -> Spec:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidArgument(f"{path}: cannot read: {exc.strerror}") from None
    return parse_spec(text, path)
