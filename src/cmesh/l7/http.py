"""HTTP policy matching as Cilium's Envoy filter does it (ref §2.7, ``pkg/envoy/xds_server.go``).

* ``method``, ``path`` and ``host`` are RE2 expressions that must match the *whole* value
  (``:method``, ``:path`` including the query string, ``:authority``); empty means any.
* ``headers`` entries are ``"Name"`` (present) or ``"Name: value"``/``"Name value"`` (exact).
* ``headerMatches``: with no ``mismatch`` the value (or the secret's) must match exactly, or the
  header be present when no value is given; ``LOG`` allows and logs a mismatch; ``ADD``,
  ``DELETE``, ``REPLACE`` edit the request and allow it.  A secret that cannot be found makes the
  rule never match.
* Rules of a list are ORed, fields of a rule ANDed; an all-empty rule allows everything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from cmesh.l7.regex import full_match
from cmesh.l7.rules import HTTPRule

SecretLookup = Callable[[str], str | None]  # "ns/name" -> value, None when missing


@dataclass(frozen=True, slots=True)
class HTTPRequest:
    method: str
    path: str
    host: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    protocol: str = "HTTP/1.1"

    def header(self, name: str) -> str | None:
        low = name.lower()
        for k, v in self.headers:
            if k.lower() == low:
                return v
        return None


@dataclass(frozen=True, slots=True)
class HTTPMatch:
    allowed: bool
    rule: HTTPRule | None = None
    logs: tuple[str, ...] = ()
    request: HTTPRequest | None = None  # the request as forwarded (after header edits)
    misses: tuple[str, ...] = field(default=())


def _split_header(entry: str) -> tuple[str, str | None]:
    name, sep, value = entry.strip().partition(" ")
    name = name.rstrip(":")
    return name, (value.strip() if sep else None)


def _match_rule(
    rule: HTTPRule, req: HTTPRequest, secret: SecretLookup
) -> tuple[bool, str, tuple[str, ...], HTTPRequest]:
    if rule.method and not full_match(rule.method, req.method):
        return False, f"method {req.method} does not match {rule.method!r}", (), req
    if rule.path and not full_match(rule.path, req.path):
        return (
            False,
            f"path {req.path} does not match {rule.path!r} (the whole path must match)",
            (),
            req,
        )
    if rule.host and not full_match(rule.host, req.host):
        return False, f"host {req.host} does not match {rule.host!r}", (), req
    for h in rule.headers:
        name, value = _split_header(h)
        have = req.header(name)
        if have is None:
            return False, f"header {name} is missing", (), req
        if value is not None and have != value:
            return False, f"header {name} is {have!r}, not {value!r}", (), req
    logs: list[str] = []
    out = req
    for name, value, secret_ref, mismatch in rule.header_matches:
        want: str | None = value or None
        if secret_ref:
            got = secret(secret_ref)
            if got is None and not value:
                return False, f"secret {secret_ref} for header {name} is missing", (), req
            want = got if got is not None else want
        have = out.header(name)
        ok = have is not None and (want is None or have == want)
        if ok:
            continue
        if mismatch == "":
            return False, f"header {name} does not match", (), req
        if mismatch == "LOG":
            logs.append(f"header {name} mismatch logged")
        elif mismatch == "DELETE":
            out = HTTPRequest(
                out.method,
                out.path,
                out.host,
                tuple((k, v) for k, v in out.headers if k.lower() != name.lower()),
                out.protocol,
            )
        elif mismatch in ("ADD", "REPLACE"):
            kept = tuple(
                (k, v) for k, v in out.headers if mismatch == "ADD" or k.lower() != name.lower()
            )
            out = HTTPRequest(
                out.method, out.path, out.host, (*kept, (name, want or "")), out.protocol
            )
    return True, "", tuple(logs), out


def match_http(
    rules: Iterable[HTTPRule], req: HTTPRequest, secret: SecretLookup = lambda _ref: None
) -> HTTPMatch:
    """Does any rule allow ``req``?  The first allowing rule wins; misses explain a denial."""
    misses: list[str] = []
    for rule in rules:
        ok, why, logs, forwarded = _match_rule(rule, req, secret)
        if ok:
            return HTTPMatch(True, rule, logs, forwarded)
        misses.append(f"{rule}: {why}")
    return HTTPMatch(False, None, (), None, tuple(misses))
