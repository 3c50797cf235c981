"""The L7 predicates of a FlowFilter: HTTP and DNS (``pkg/hubble/filters/http.go``, ``fqdn.go``).

HTTP filters require the event-type filter to be empty or to include ``l7`` (the server
rejects them otherwise).  ``--http-status`` takes a code (``404``) or a prefix (``4+``,
``40+``) and only matches responses; ``--http-method`` ignores case; ``--http-path`` is an RE2
regex searched in the path of the request URI; ``--http-url`` one searched in the whole URL;
``--http-header k:v`` needs one header with exactly that key and value.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

import re2

from cmesh.errors import InvalidArgument
from cmesh.hubble.enums import MessageType
from cmesh.hubble.filters import FlowFilter, Predicate
from cmesh.hubble.flow import HTTP, Flow, HTTPHeader
from cmesh.hubble.summary import go_quote
from cmesh.l7.regex import compile_go, error_text


def compile_re(pattern: str, context: str) -> object:
    """An RE2 regex, or InvalidArgument naming ``context`` (Go's ``regexp`` is RE2 too)."""
    try:
        return compile_go(pattern)
    except re2.error as exc:
        raise InvalidArgument(
            f"{context}: {pattern}: {error_text(exc)}", hint="use RE2 syntax"
        ) from None


def _http(flow: Flow) -> HTTP | None:
    return flow.l7.http if flow.l7 is not None else None


def _check_l7_types(ff: FlowFilter, what: str) -> None:
    types = ff.event_type
    if types and not any(t.type == MessageType.ACCESS_LOG.value for t in types):
        raise InvalidArgument(
            f"filtering by {what} requires the event type filter to only match 'l7' events",
            hint="add --type l7 or drop the --type filter",
        )


def _by_status(codes: Sequence[str]) -> Predicate:
    full, prefixes = set(), []
    for code in codes:
        if re2.fullmatch(r"[1-5][0-9]{2}", code):
            full.add(code)
        elif re2.fullmatch(r"[1-5][0-9]?\+", code):
            prefixes.append(code[:-1])
        else:
            raise InvalidArgument(
                f"invalid http status code filter: invalid status code prefix: {go_quote(code)}",
                hint="write a code (404) or a prefix (4+, 40+)",
            )

    def check(flow: Flow) -> bool:
        http = _http(flow)
        if http is None or http.code == 0:
            return False
        text = f"{http.code:03d}"
        return text in full or any(text.startswith(p) for p in prefixes)

    return check


def _request_path(url: str) -> str | None:
    """``url.ParseRequestURI(u).Path``: an absolute URL or an absolute path, else ``None``."""
    parts = urlsplit(url)
    if parts.scheme or url.startswith("/"):
        return parts.path
    return None


def _http_predicates(ff: FlowFilter) -> list[Predicate]:
    out: list[Predicate] = []
    if ff.http_status_code:
        _check_l7_types(ff, "http status code")
        out.append(_by_status(ff.http_status_code))
    if ff.http_method:
        _check_l7_types(ff, "http method")
        methods = [m.lower() for m in ff.http_method]
        out.append(
            lambda f: (h := _http(f)) is not None and bool(h.method) and h.method.lower() in methods
        )
    if ff.http_path:
        _check_l7_types(ff, "http path")
        paths = [compile_re(p, "invalid http path filter") for p in ff.http_path]

        def by_path(flow: Flow) -> bool:
            http = _http(flow)
            path = _request_path(http.url) if http and http.url else None
            return path is not None and any(r.search(path) for r in paths)  # type: ignore[attr-defined]

        out.append(by_path)
    if ff.http_url:
        _check_l7_types(ff, "http url")
        urls = [compile_re(u, "invalid http url filter") for u in ff.http_url]
        out.append(
            lambda f: (
                (h := _http(f)) is not None and bool(h.url) and any(r.search(h.url) for r in urls)
            )  # type: ignore[attr-defined]
        )
    if ff.http_header:
        _check_l7_types(ff, "http headers")
        wanted: set[HTTPHeader] = set(ff.http_header)
        out.append(lambda f: (h := _http(f)) is not None and any(x in wanted for x in h.headers))
    return out


def _by_dns_query(patterns: Sequence[str]) -> Predicate:
    regexes = [
        compile_re(p, "invalid DNS query filter: failed to compile regexp") for p in patterns
    ]
    return lambda flow: (
        flow.l7 is not None
        and flow.l7.dns is not None
        and any(r.search(flow.l7.dns.query) for r in regexes)  # type: ignore[attr-defined]
    )


def l7_predicates(ff: FlowFilter) -> list[Predicate]:
    """The HTTP and DNS predicates of ``ff``."""
    predicates = _http_predicates(ff)
    if ff.dns_query:
        predicates.append(_by_dns_query(ff.dns_query))
    return predicates
