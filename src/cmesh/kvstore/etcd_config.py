"""How to reach etcd: endpoints, TLS files and timeouts, parsed from an ``etcd://`` URL.

It owns the URL form of the etcd backend (what ``--kvstore`` and :func:`cmesh.kvstore.open_store`
accept) and turns the TLS files into one :class:`ssl.SSLContext`, so that a missing or broken
file is reported when the store is opened, naming the file, and not on the first request::

    etcd://HOST[:PORT][,HOST[:PORT]...][?OPTION=VALUE&...]    plain HTTP, unless a TLS option is set
    etcds://HOST[:PORT][,HOST[:PORT]...][?OPTION=VALUE&...]   TLS

    OPTION   meaning                                                      default
    cacert   CA bundle that signed etcd's certificate (--trusted-ca-file)  the system CAs
    cert     client certificate, for etcd's --client-cert-auth            none
    key      the client certificate's private key                         none
    timeout  seconds to wait for one request (connect, then answer)       5

An endpoint may also be written ``http://HOST:PORT`` or ``https://HOST:PORT`` (``https`` means
TLS); all endpoints of one store use the same scheme.  IPv6 hosts go in brackets
(``[::1]:2379``); the port defaults to 2379.  A ``cacert``, ``cert`` or ``key`` implies TLS.
Values are URL-encoded (``%26`` for ``&`` in a path).  Parsing changes nothing and does no I/O
apart from reading the TLS files; every mistake raises :class:`~cmesh.errors.InvalidArgument`.

>>> cfg = EtcdConfig.from_url("etcd://10.0.0.1:2379,10.0.0.2")
>>> [str(e) for e in cfg.endpoints], cfg.tls
(['http://10.0.0.1:2379', 'http://10.0.0.2:2379'], False)
>>> EtcdConfig.from_url("etcds://[::1]:2379?timeout=2").url
'etcds://[::1]:2379?timeout=2'
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlencode

from cmesh.errors import InvalidArgument

DEFAULT_PORT = 2379
DEFAULT_TIMEOUT = 5.0
_OPTIONS = ("cacert", "cert", "key", "timeout")
_FORM = "etcd://HOST:PORT[,HOST:PORT...][?cacert=FILE&cert=FILE&key=FILE&timeout=SECONDS]"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One etcd member's client URL."""

    host: str
    port: int
    tls: bool

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class EtcdConfig:
    """Where etcd is and how to talk to it; build one with :meth:`from_url` or directly."""

    endpoints: tuple[Endpoint, ...]
    tls: bool = False
    cacert: str | None = None
    cert: str | None = None
    key: str | None = None
    timeout: float = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        if not self.endpoints:
            raise InvalidArgument("the etcd store URL names no endpoint", hint=f"use {_FORM}")
        if (self.cert is None) != (self.key is None):
            raise InvalidArgument(
                "an etcd client certificate needs both cert and key",
                hint="give both ?cert=FILE&key=FILE, or neither",
            )
        if not self.timeout > 0:
            raise InvalidArgument(
                f"etcd timeout must be a positive number of seconds, not {self.timeout}",
                hint="e.g. ?timeout=5",
            )

    @classmethod
    def from_url(cls, url: str) -> EtcdConfig:
        """Parse an ``etcd://`` or ``etcds://`` URL (the module docstring has the form)."""
        scheme, sep, rest = url.partition("://")
        scheme = scheme.lower()
        if not sep or scheme not in ("etcd", "etcds"):
            raise InvalidArgument(f"not an etcd store URL: {url!r}", hint=f"use {_FORM}")
        hosts, _, query = rest.partition("?")
        options = _options(query, url)
        files = {name: options.get(name) for name in ("cacert", "cert", "key")}
        parsed = [_endpoint(part, url) for part in hosts.split(",") if part.strip()]
        schemes = {named for _, _, named in parsed if named}
        tls = scheme == "etcds" or "https" in schemes or any(v is not None for v in files.values())
        if len(schemes) > 1 or ("http" in schemes and tls):
            raise InvalidArgument(
                f"etcd endpoints mix http and https (or TLS options) in {url!r}",
                hint="use https:// endpoints (or etcds://) with TLS, plain host:port without",
            )
        endpoints = tuple(Endpoint(host, port, tls) for host, port, _ in parsed)
        timeout = DEFAULT_TIMEOUT
        if "timeout" in options:
            try:
                timeout = float(options["timeout"])
            except ValueError:
                raise InvalidArgument(
                    f"etcd timeout {options['timeout']!r} is not a number", hint="e.g. ?timeout=5"
                ) from None
        return cls(endpoints, tls, files["cacert"], files["cert"], files["key"], timeout)

    @property
    def url(self) -> str:
        """The canonical URL of this configuration (what :attr:`Store.url` shows)."""
        hosts = ",".join(str(e).partition("://")[2] for e in self.endpoints)
        options = {
            name: value
            for name, value in (("cacert", self.cacert), ("cert", self.cert), ("key", self.key))
            if value is not None
        }
        if self.timeout != DEFAULT_TIMEOUT:
            options["timeout"] = f"{self.timeout:g}"
        query = urlencode(options, quote_via=quote, safe="/") if options else ""
        return f"{'etcds' if self.tls else 'etcd'}://{hosts}{'?' if query else ''}{query}"

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context for every connection, or ``None`` for plain HTTP.

        Reads the files now, so that a wrong path or a key that does not match its certificate
        is an :class:`InvalidArgument` naming the file when the store is opened.
        """
        if not self.tls:
            return None
        try:
            context = ssl.create_default_context(cafile=self.cacert)
        except (OSError, ssl.SSLError) as exc:
            raise InvalidArgument(
                f"cannot load the etcd CA file {self.cacert}: {exc}",
                hint="cacert= must name a readable PEM file with the CA that signed etcd's cert",
            ) from exc
        if self.cert is not None and self.key is not None:
            try:
                context.load_cert_chain(self.cert, self.key)
            except (OSError, ssl.SSLError) as exc:
                raise InvalidArgument(
                    f"cannot load the etcd client certificate {self.cert} with key {self.key}:"
                    f" {exc}",
                    hint="cert= and key= must name readable PEM files that belong together",
                ) from exc
        return context

    def describe(self) -> str:
        """The endpoints for messages: ``etcd at http://a:2379, http://b:2379``."""
        return "etcd at " + ", ".join(str(e) for e in self.endpoints)


def _options(query: str, url: str) -> dict[str, str]:
    try:
        parsed = parse_qs(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise InvalidArgument(f"malformed options in {url!r}", hint=f"use {_FORM}") from None
    unknown = sorted(set(parsed) - set(_OPTIONS))
    if unknown:
        raise InvalidArgument(
            f"unknown etcd option(s) {', '.join(unknown)} in {url!r}",
            hint="known options: " + ", ".join(_OPTIONS),
        )
    twice = sorted(name for name, values in parsed.items() if len(values) > 1)
    if twice:
        raise InvalidArgument(f"etcd option(s) {', '.join(twice)} given twice in {url!r}")
    return {name: values[0] for name, values in parsed.items()}


def _endpoint(part: str, url: str) -> tuple[str, int, str]:
    """``[http[s]://]HOST[:PORT]`` → host, port and the scheme it names ("" when none)."""
    text = part.strip()
    scheme, sep, hostport = text.partition("://")
    if not sep:
        scheme, hostport = "", text
    elif scheme.lower() not in ("http", "https"):
        raise InvalidArgument(
            f"etcd endpoint {text!r} in {url!r} has scheme {scheme!r}", hint="use http or https"
        )
    hostport = hostport.rstrip("/")
    if hostport.startswith("["):
        host, bracket, port_part = hostport[1:].partition("]")
        if not bracket or (port_part and not port_part.startswith(":")):
            raise InvalidArgument(f"malformed IPv6 etcd endpoint {text!r} in {url!r}")
        port_text = port_part[1:]
    else:
        host, _, port_text = hostport.partition(":")
    if not host or "/" in host or "@" in host:
        raise InvalidArgument(f"malformed etcd endpoint {text!r} in {url!r}", hint=f"use {_FORM}")
    port = DEFAULT_PORT
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise InvalidArgument(
                f"etcd endpoint {text!r} in {url!r} has an invalid port {port_text!r}",
                hint="a port is a number from 1 to 65535",
            )
        port = int(port_text)
    return host, port, scheme.lower()
