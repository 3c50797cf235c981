"""The connectivity test spec: expectations about flows, and coverage expectations.

A spec is data about *intent*, independent of how it is checked: each expectation names a set
of sources and a destination, ports, optionally an HTTP request or a DNS query, and whether the
flows must be allowed or denied.  :mod:`cmesh.analysis.assertions` expands it to concrete
flows — one source pod, one destination address and port, one request — and asks the policy
engine; a live datapath can send the very same flows as packets.  The format is documented in
``docs/analysis.md``; errors say which expectation and field are wrong.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cmesh.model.fields import FieldPath, FieldReader
from cmesh.policy import Direction, Protocol
from cmesh.registry import read_text_file

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


def _selector(r: FieldReader, v: Any, path: FieldPath) -> Selector:
    v = r.mapping(v, path, "a mapping (cluster, namespace, labels, pod)")
    r.fields(v, path, {"cluster", "namespace", "labels", "pod"})
    labels = r.mapping(v.get("labels"), (*path, "labels"), "a mapping of label to value")
    return Selector(
        r.texts(v.get("cluster"), (*path, "cluster")),
        r.texts(v.get("namespace"), (*path, "namespace")),
        tuple(sorted((str(k), r.text(x, (*path, "labels", str(k)))) for k, x in labels.items())),
        r.text(v.get("pod"), (*path, "pod")),
    )


def _target(r: FieldReader, v: Any, path: FieldPath) -> Target:
    v = r.mapping(v, path)
    for key in ("service", "fqdn", "cidr"):
        if key in v:
            if len(v) > (2 if "cluster" in v and key == "service" else 1):
                raise r.err(path, f"{key} stands alone (with cluster for a service)")
            if key == "service" and "cluster" in v:
                raise r.err(path, "a service is the source cluster's; drop cluster")
            value = r.text(v[key], (*path, key))
            if key == "service" and not re.fullmatch(r"[^/\s]+/[^/\s]+", value):
                raise r.err((*path, key), f"expected NS/NAME, got {value!r}")
            if key == "fqdn" and not value.strip(". "):
                raise r.err((*path, key), "expected a DNS name such as api.example.com")
            if key == "cidr":
                try:
                    ipaddress.ip_network(value, strict=False)
                except ValueError:
                    raise r.err(
                        (*path, key), f"expected an IP prefix such as 10.0.0.0/8, got {value!r}"
                    ) from None
            return Target(**{key: value})
    return Target(pods=_selector(r, v, path))


_PORT_HINT = "write 80, 80/TCP, 53/UDP or 8000-8002/TCP"


def _ports(text: Any) -> tuple[list[tuple[Protocol, int]], str]:
    m = _PORT.match(str(text).strip()) if not isinstance(text, dict | list | bool) else None
    if not m:
        return [], f"cannot read port {text!r}"
    lo = int(m.group(1))
    hi = int(m.group(2) or lo)
    try:
        proto = Protocol.parse(m.group(3) or "TCP")
    except ValueError as exc:
        return [], str(exc)
    if not 0 <= lo <= hi <= 65535 or hi - lo > 64:
        return [], f"port range {text} is out of bounds (at most 65 ports)"
    return [(proto, p) for p in range(lo, hi + 1)], ""


def _expectation(r: FieldReader, i: int, v: Any) -> Expectation:
    path: FieldPath = ("spec", "expectations", i)
    v = r.mapping(v, path)
    r.fields(v, path, {"name", "from", "to", "ports", "http", "dns", "expect"})
    for key in ("from", "to", "expect"):
        if key not in v:
            raise r.err(path, f"`{key}` is required")
    if v["expect"] not in ("allow", "deny"):
        raise r.err((*path, "expect"), "must be allow or deny")
    raw_ports = v.get("ports")
    ports: list[tuple[Protocol, int]] = []
    for j, x in enumerate(raw_ports if isinstance(raw_ports, list) else [raw_ports]):
        if x is None and not isinstance(raw_ports, list):
            continue
        where = (*path, "ports", j) if isinstance(raw_ports, list) else (*path, "ports")
        found, problem = _ports(x)
        if problem:
            raise r.err(where, problem, _PORT_HINT)
        ports += found
    http = None
    if v.get("http") is not None:
        hp = (*path, "http")
        h = r.mapping(v["http"], hp, "{method, path, host, headers}")
        r.fields(h, hp, {"method", "path", "host", "headers"})
        headers = r.mapping(h.get("headers"), (*hp, "headers"), "a mapping of header to value")
        http = HTTPCheck(
            r.text(h.get("method"), (*hp, "method"), "GET"),
            r.text(h.get("path"), (*hp, "path"), "/"),
            r.text(h.get("host"), (*hp, "host")),
            tuple((str(k), r.text(x, (*hp, "headers", str(k)))) for k, x in headers.items()),
        )
    dns = ""
    if v.get("dns") is not None:
        d = v["dns"]
        if isinstance(d, dict):
            r.fields(d, (*path, "dns"), {"name"})
            dns = r.text(d.get("name"), (*path, "dns", "name"))
        else:
            dns = r.text(d, (*path, "dns"))
        if not dns.strip(". "):
            raise r.err((*path, "dns"), "expected {name: example.com}")
        ports = ports or [(Protocol.UDP, 53)]
    if not ports:
        raise r.err((*path, "ports"), "give at least one port, e.g. [8080/TCP]")
    return Expectation(
        r.text(v.get("name"), (*path, "name")) or f"expectation {i}",
        _selector(r, v["from"], (*path, "from")),
        _target(r, v["to"], (*path, "to")),
        tuple(ports),
        v["expect"] == "allow",
        http,
        dns,
        i,
    )


def _coverage(r: FieldReader, i: int, v: Any) -> Coverage:
    path: FieldPath = ("spec", "coverage", i)
    v = r.mapping(v, path)
    r.fields(v, path, {"name", "pods", "selected-by"})
    sel = r.text(v.get("selected-by"), (*path, "selected-by"), "ingress")
    dirs = {
        "ingress": (Direction.INGRESS,),
        "egress": (Direction.EGRESS,),
        "both": (Direction.INGRESS, Direction.EGRESS),
    }.get(sel)
    if dirs is None:
        raise r.err((*path, "selected-by"), "must be ingress, egress or both")
    return Coverage(
        r.text(v.get("name"), (*path, "name")) or f"coverage {i}",
        _selector(r, v.get("pods") or {}, (*path, "pods")),
        dirs,
        i,
    )


def parse_spec(text: str, file: str) -> Spec:
    """Read a spec; every error names ``file:line`` and the field path (nothing is run)."""
    r, data = FieldReader.document(text, file, "connectivity test spec", "see docs/analysis.md")
    if data.get("kind") != KIND:
        raise r.err(("kind",), f"a connectivity test spec has kind: {KIND}")
    if data.get("apiVersion") != API_VERSION:
        raise r.err(("apiVersion",), f"expected {API_VERSION}")
    r.fields(data, (), {"apiVersion", "kind", "metadata", "spec"})
    spec = r.mapping(data.get("spec"), ("spec",))
    r.fields(spec, ("spec",), {"expectations", "coverage"})
    meta = r.mapping(data.get("metadata"), ("metadata",))
    name = r.text(meta.get("name"), ("metadata", "name")) or Path(file).stem
    out = Spec(name, file)
    out.expectations = [
        _expectation(r, i, v)
        for i, v in enumerate(r.items(spec.get("expectations"), ("spec", "expectations")))
    ]
    out.coverage = [
        _coverage(r, i, v)
        for i, v in enumerate(r.items(spec.get("coverage"), ("spec", "coverage")))
    ]
    if not out.expectations and not out.coverage:
        raise r.err(("spec",), "no expectations and no coverage: nothing to test")
    return out


def read_spec(path: str) -> Spec:
    return parse_spec(read_text_file(path, "spec"), path)
