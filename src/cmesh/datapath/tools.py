"""curl, dig, nslookup, nc and ping, parsed as those tools parse them and answered as they answer.

Each tool turns its command line into traffic on a :class:`~cmesh.datapath.sim.Simulator` and
returns what it would print and its exit code (curl: 0, 6 could not resolve, 7 could not
connect, 22 HTTP error with ``-f``, 28 timeout, 35 TLS handshake failed, 56 receive failure).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from cmesh.datapath.dns import resolve
from cmesh.datapath.peers import Peer
from cmesh.datapath.requests import DNSQuery, DNSResponse, HTTPCall, HTTPResponse, TLSInfo
from cmesh.datapath.sim import Simulator, Status
from cmesh.l7 import HTTPRequest
from cmesh.policy.types import Protocol


@dataclass
class ToolResult:
    stdout: str
    stderr: str
    exit_code: int


class UsageError(Exception):
    pass


REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    403: "Forbidden",
    404: "Not Found",
    500: "Internal Server Error",
}


def run(sim: Simulator, src: Peer, argv: Sequence[str]) -> ToolResult:
    if not argv:
        raise UsageError("no command given")
    tool = argv[0].rsplit("/", 1)[-1]
    handlers = {"curl": curl, "dig": dig, "nslookup": nslookup, "nc": nc, "ncat": nc, "ping": ping}
    if tool not in handlers:
        raise UsageError(
            f"{tool}: not found in the simulated pod (available: curl, dig, nslookup, nc, ping)"
        )
    return handlers[tool](sim, src, list(argv[1:]))


# -- curl ------------------------------------------------------------------------------------------
@dataclass
class CurlOptions:
    url: str = ""
    method: str = ""
    headers: list[tuple[str, str]] | None = None
    data: str | None = None
    max_time: float = 5.0
    connect_timeout: float | None = None
    silent: bool = False
    show_error: bool = False
    verbose: bool = False
    output: str | None = None
    write_out: str | None = None
    fail: bool = False
    include: bool = False
    head: bool = False


_CURL_ARG = {
    "-X": "method",
    "--request": "method",
    "-H": "header",
    "--header": "header",
    "-d": "data",
    "--data": "data",
    "--data-raw": "data",
    "--data-binary": "data",
    "--json": "json",
    "-m": "max_time",
    "--max-time": "max_time",
    "--connect-timeout": "connect_timeout",
    "-o": "output",
    "--output": "output",
    "-w": "write_out",
    "--write-out": "write_out",
    "-A": "agent",
    "--user-agent": "agent",
    "--resolve": "ignore",
    "-u": "ignore",
    "--cacert": "ignore",
}
_CURL_FLAGS = {
    "s": "silent",
    "S": "show_error",
    "v": "verbose",
    "f": "fail",
    "i": "include",
    "I": "head",
    "L": "ignore",
    "k": "ignore",
}
_CURL_LONG_FLAGS = {
    "--silent": "silent",
    "--show-error": "show_error",
    "--verbose": "verbose",
    "--fail": "fail",
    "--include": "include",
    "--head": "head",
    "--location": "ignore",
    "--insecure": "ignore",
    "-sS": "",
    "--http1.1": "ignore",
}


def parse_curl(args: list[str]) -> CurlOptions:
    o = CurlOptions(headers=[])
    i = 0
    while i < len(args):
        a = args[i]
        if a in _CURL_ARG:
            if i + 1 >= len(args):
                raise UsageError(f"curl: option {a}: requires parameter")
            v = args[i + 1]
            i += 2
            what = _CURL_ARG[a]
            if what == "method":
                o.method = v
            elif what == "header":
                k, _, val = v.partition(":")
                o.headers.append((k.strip(), val.strip()))  # type: ignore[union-attr]
            elif what == "data":
                o.data = (o.data + "&" + v) if o.data else v
            elif what == "json":
                o.data = v
                o.headers += [("Content-Type", "application/json"), ("Accept", "application/json")]  # type: ignore[operator]
            elif what in ("max_time", "connect_timeout"):
                try:
                    setattr(o, what, float(v))
                except ValueError:
                    raise UsageError(
                        f"curl: option {a}: expected a proper numerical parameter"
                    ) from None
            elif what in ("output", "write_out"):
                setattr(o, what, v)
            continue
        if a in _CURL_LONG_FLAGS:
            if _CURL_LONG_FLAGS[a] not in ("", "ignore"):
                setattr(o, _CURL_LONG_FLAGS[a], True)
            i += 1
            continue
        if a.startswith("-") and not a.startswith("--") and len(a) > 1:
            for ch in a[1:]:
                if ch in _CURL_FLAGS:
                    if _CURL_FLAGS[ch] != "ignore":
                        setattr(o, _CURL_FLAGS[ch], True)
                elif "-" + ch in _CURL_ARG:
                    # a value-taking short option glued last, e.g. -sX POST
                    rest = args[i + 1] if i + 1 < len(args) else ""
                    return (
                        parse_curl([*args[:i], "-" + ch, rest, *args[i + 2 :]])
                        if a.endswith(ch)
                        else o
                    )
                else:
                    raise UsageError(f"curl: option -{ch}: is unknown")
            i += 1
            continue
        if a.startswith("--"):
            raise UsageError(f"curl: option {a}: is unknown")
        o.url = a
        i += 1
    if not o.url:
        raise UsageError("curl: no URL specified!")
    return o


def curl(sim: Simulator, src: Peer, args: list[str]) -> ToolResult:
    try:
        o = parse_curl(args)
    except UsageError as exc:
        return ToolResult("", f"{exc}\ncurl: try 'curl --help' for more information\n", 2)
    err: list[str] = []
    verbose: list[str] = []

    def fail(code: int, msg: str) -> ToolResult:
        if not o.silent or o.show_error:
            err.append(f"curl: ({code}) {msg}")
        out = _write_out(o, 0, 0.0) if o.write_out else ""
        return ToolResult(out, "\n".join(verbose + err) + ("\n" if err or verbose else ""), code)

    url = o.url if "://" in o.url else "http://" + o.url
    try:
        parts = urlsplit(url)
    except ValueError:  # a bracketed host that is no IPv6 address: curl's CURLUE_BAD_IPV6
        return fail(3, "URL rejected: Bad IPv6 address")
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return fail(1, f'Protocol "{scheme}" not supported')
    host = parts.hostname or ""
    if not host:
        return fail(3, "URL rejected: No host part in the URL")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:  # curl's CURLUE_BAD_PORT_NUMBER
        return fail(3, "URL rejected: Port number was not a decimal number between 0 and 65535")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    method = o.method or ("HEAD" if o.head else "POST" if o.data is not None else "GET")
    headers = list(o.headers or [])
    if o.data is not None and not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", "application/x-www-form-urlencoded"))
    host_header = host if port in (80, 443) else f"{host}:{port}"
    headers = [("Host", host_header), ("User-Agent", "curl/8.5.0"), ("Accept", "*/*"), *headers]
    res = resolve(sim, src, host, timeout=o.connect_timeout or o.max_time)
    if res.status != "NOERROR":
        return fail(6, f"Could not resolve host: {host}")
    ip = res.ips[0]
    if o.verbose:
        verbose.append(f"*   Trying {ip}:{port}...")
    budget = max(o.max_time - res.elapsed, 0.0)
    timeout = min(budget, o.connect_timeout) if o.connect_timeout else budget
    req = HTTPRequest(method, path, host_header, tuple(headers))
    call = HTTPCall(
        req, (o.data or "").encode(), TLSInfo(host) if scheme == "https" else None, scheme
    )
    names = (
        (res.answered_name,)
        if res.answered_name and not res.answered_name.rstrip(".").replace(".", "").isdigit()
        else ()
    )
    conn = sim.connect(src, ip, port, Protocol.TCP, timeout=timeout, names=names, request=call)
    elapsed = res.elapsed + conn.elapsed
    if conn.status is Status.TIMEOUT:
        ms = int(elapsed * 1000)
        if o.connect_timeout:
            return fail(
                28, f"Failed to connect to {host} port {port} after {ms} ms: Timeout was reached"
            )
        return fail(28, f"Connection timed out after {ms} milliseconds")
    if conn.status is Status.REFUSED:
        return fail(
            7, f"Failed to connect to {host} port {port} after 0 ms: Couldn't connect to server"
        )
    r = conn.response
    if isinstance(r, HTTPResponse) and r.tls_failed:
        verbose.append(f"* TLS handshake failed: {r.tls_failed}")
        return fail(
            35, "OpenSSL SSL_connect: SSL_ERROR_SYSCALL in connection to " + f"{host}:{port}"
        )
    if isinstance(r, HTTPResponse) and r.reset:
        verbose.append(f"* {r.reset}")
        return fail(56, "Recv failure: Connection reset by peer")
    assert isinstance(r, HTTPResponse)
    if o.verbose:
        verbose += [
            f"* Connected to {host} ({ip}) port {port}",
            f"> {method} {path} HTTP/1.1",
            *[f"> {k}: {v}" for k, v in headers],
            ">",
            f"< HTTP/1.1 {r.code} {REASONS.get(r.code, '')}".rstrip(),
            *[f"< {k}: {v}" for k, v in r.headers.items()],
            "<",
        ]
    if o.fail and r.code >= 400:
        return fail(22, f"The requested URL returned error: {r.code}")
    body = r.body
    if o.include or o.head:
        head = (
            f"HTTP/1.1 {r.code} {REASONS.get(r.code, '')}".rstrip()
            + "\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in r.headers.items())
            + "\r\n"
        )
        body = head + ("" if o.head else body)
    stdout = "" if o.output and o.output != "-" else body
    if o.write_out:
        stdout += _write_out(o, r.code, elapsed)
    return ToolResult(stdout, "\n".join(verbose) + ("\n" if verbose else ""), 0)


def _write_out(o: CurlOptions, code: int, elapsed: float) -> str:
    out = (
        (o.write_out or "")
        .replace("%{http_code}", f"{code:03d}")
        .replace("%{response_code}", str(code))
        .replace("%{time_total}", f"{elapsed:.6f}")
    )
    return out.replace("\\n", "\n")


# -- dig / nslookup --------------------------------------------------------------------------------
def dig(sim: Simulator, src: Peer, args: list[str]) -> ToolResult:
    short = "+short" in args
    names = [
        a
        for a in args
        if not a.startswith("+") and not a.startswith("@") and a.upper() not in ("A", "IN")
    ]
    if not names:
        return ToolResult("", "dig: a name is required\n", 1)
    name = names[0]
    fq = name if name.endswith(".") else name + "."
    ep = src.endpoint
    assert ep is not None
    from cmesh.datapath.dns import nameserver

    server = nameserver(sim, ep.cluster) or ""
    conn = sim.connect(src, server, 53, Protocol.UDP, request=DNSQuery(fq)) if server else None
    if conn is None or not conn.ok or not isinstance(conn.response, DNSResponse):
        return ToolResult(
            f";; communications error to {server}#53: timed out\n;; communications error to {server}#53: timed out\n\n; <<>> DiG 9.18.24 <<>> {name}\n;; global options: +cmd\n;; no servers could be reached\n",
            "",
            9,
        )
    r = conn.response
    if short:
        return ToolResult("".join(f"{ip}\n" for ip in r.ips), "", 0)
    lines = [
        f"; <<>> DiG 9.18.24 <<>> {name}",
        ";; global options: +cmd",
        ";; Got answer:",
        f";; ->>HEADER<<- opcode: QUERY, status: {r.rcode}, id: {sim.source_port(name) % 65536}",
        f";; flags: qr{' aa' if r.by == 'server' else ''} rd ra; QUERY: 1, ANSWER: {len(r.ips)}, AUTHORITY: 0, ADDITIONAL: 1",
        "",
        ";; QUESTION SECTION:",
        f";{fq}\t\t\tIN\tA",
        "",
    ]
    if r.ips:
        lines.append(";; ANSWER SECTION:")
        lines += [f"{fq}\t\t{r.ttl}\tIN\tA\t{ip}" for ip in r.ips]
        lines.append("")
    lines += [
        ";; Query time: 0 msec",
        f";; SERVER: {server}#53({server}) (UDP)",
        ";; MSG SIZE  rcvd: 100",
        "",
    ]
    return ToolResult("\n".join(lines) + "\n", "", 0)


def nslookup(sim: Simulator, src: Peer, args: list[str]) -> ToolResult:
    names = [a for a in args if not a.startswith("-")]
    if not names:
        return ToolResult("", "usage: nslookup NAME\n", 1)
    name = names[0]
    res = resolve(sim, src, name)
    head = f"Server:\t\t{res.server}\nAddress:\t{res.server}#53\n\n"
    if res.status == "NOERROR":
        shown = res.answered_name.rstrip(".") or name
        return ToolResult(
            head + "".join(f"Name:\t{shown}\nAddress: {ip}\n" for ip in res.ips), "", 0
        )
    if res.status in ("TIMEOUT", "NO-NAMESERVER"):
        return ToolResult(";; connection timed out; no servers could be reached\n\n", "", 1)
    return ToolResult(head + f"** server can't find {name}: {res.status}\n\n", "", 1)


# -- nc / ping ---------------------------------------------------------------------------------------
def nc(sim: Simulator, src: Peer, args: list[str]) -> ToolResult:
    udp = verbose = False
    wait = 5.0
    rest: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-w" and i + 1 < len(args):
            try:
                wait = float(args[i + 1])
            except ValueError:
                return ToolResult("", f"nc: timeout invalid: {args[i + 1]}\n", 1)
            i += 2
            continue
        if a.startswith("-") and len(a) > 1:
            for ch in a[1:]:  # -z (scan only) changes nothing here: no data is ever sent
                udp |= ch == "u"
                verbose |= ch == "v"
            i += 1
            continue
        rest.append(a)
        i += 1
    if len(rest) != 2 or not rest[1].isdigit():
        return ToolResult("", "usage: nc [-z] [-u] [-v] [-w secs] HOST PORT\n", 1)
    host, port = rest[0], int(rest[1])
    res = resolve(sim, src, host, timeout=wait)
    if res.status != "NOERROR":
        return ToolResult(
            "", f'nc: getaddrinfo for host "{host}" port {port}: Name or service not known\n', 1
        )
    proto = Protocol.UDP if udp else Protocol.TCP
    conn = sim.connect(src, res.ips[0], port, proto, timeout=wait)
    kind = "udp" if udp else "tcp"
    if conn.ok:
        return ToolResult(
            "",
            f"Connection to {host} ({res.ips[0]}) {port} port [{kind}/*] succeeded!\n"
            if verbose
            else "",
            0,
        )
    if conn.status is Status.TIMEOUT and udp:
        # UDP has no handshake: nc -zu reports success unless an ICMP error comes back
        return ToolResult(
            "",
            f"Connection to {host} ({res.ips[0]}) {port} port [udp/*] succeeded!\n"
            if verbose
            else "",
            0,
        )
    why = "Connection refused" if conn.status is Status.REFUSED else "Operation timed out"
    return ToolResult(
        "",
        f"nc: connect to {host} ({res.ips[0]}) port {port} ({kind}) failed: {why}\n"
        if verbose or conn.status is Status.REFUSED
        else "",
        1,
    )


def ping(sim: Simulator, src: Peer, args: list[str]) -> ToolResult:
    count, wait = 1, 1.0
    hosts = []
    i = 0
    while i < len(args):
        if args[i] in ("-c", "-W") and i + 1 < len(args):
            value = args[i + 1]
            invalid = ToolResult("", f"ping: invalid argument: '{value}'\n", 2)
            if args[i] == "-c":
                if not value.isdigit() or int(value) < 1:
                    return invalid
                count = int(value)
            else:
                try:
                    wait = float(value)
                except ValueError:
                    return invalid
            i += 2
        elif args[i].startswith("-"):
            i += 1
        else:
            hosts.append(args[i])
            i += 1
    if not hosts:
        return ToolResult("", "ping: usage error: Destination address required\n", 2)
    host = hosts[0]
    res = resolve(sim, src, host, timeout=wait)
    if res.status != "NOERROR":
        return ToolResult("", f"ping: {host}: Name or service not known\n", 2)
    ip = res.ips[0]
    out = [f"PING {host} ({ip}) 56(84) bytes of data."]
    received = 0
    for seq in range(1, count + 1):
        conn = sim.connect(src, ip, 8, Protocol.ICMP, timeout=wait)
        if conn.ok:
            received += 1
            out.append(f"64 bytes from {ip}: icmp_seq={seq} ttl=63 time=0.1 ms")
    loss = int(100 * (count - received) / count)
    out += [
        "",
        f"--- {host} ping statistics ---",
        f"{count} packets transmitted, {received} received, {loss}% packet loss, time {int(count * wait * 1000)}ms",
    ]
    return ToolResult("\n".join(out) + "\n", "", 0 if received else 1)
