"""Read flow logs as Hubble writes them: JSON lines, a JSON array or concatenated objects, gzipped
or not, from a file or standard input (ref §4.3).

Accepted, in any mix, one value per line:

* a ``GetFlowsResponse`` as ``hubble observe -o json`` / ``-o jsonpb`` prints it
  (``{"flow": {...}, "node_name": ..., "time": ...}``) — cmesh's own ``hubble observe -o json``
  prints the same;
* a bare ``Flow`` object (what ``jq .flow`` leaves);
* a JSON array of either (one document, or one array per line).

Also a stream of pretty-printed objects (``jq .`` output), detected when the first line does not
parse on its own.  Responses that carry no flow (``node_status``, ``lost_events``) are counted and
skipped.  A malformed line is reported with its line number and skipped; the count is in
:class:`ReadStats`.  Parsing uses orjson (several times faster than ``json``); nothing here builds
:class:`~cmesh.hubble.Flow` objects — :mod:`cmesh.replay.records` reads only the fields that decide
a verdict.
"""

from __future__ import annotations

import gzip
import io
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import orjson

from cmesh.errors import InvalidArgument

#: At most this many malformed lines are kept with their message (all are counted).
KEEP_MALFORMED = 20

Progress = Callable[[int], None]
FlowItem = tuple[dict[str, Any], str, int]  # (flow object, node_name of the response, line)
ReplyItem = tuple[None, str, int]  # a reply recognised without parsing it
_REPLY = b'"is_reply":true'
_DNS = b'"dns"'
#: What varies between two events of one connection in compact ``-o json`` (ref §4.3): the
#: timestamps and uuid around the flow, and the client's source port.  None decides a verdict.
_HEAD = b'{"flow":{"time":"'


class LineCache(Protocol):
    """What :func:`iter_flows` asks of its consumer to skip parsing repeated lines."""

    def hit(self, norm: bytes, line: int) -> bool: ...

    def learn(self, norm: bytes) -> None: ...


def normalize(raw: bytes) -> bytes | None:
    """``raw`` without the parts that differ between events of one connection, or ``None``
    when the line is not in the compact form ``hubble observe -o json`` writes (then it is
    simply parsed).  Equal results mean equal verdict-deciding content.

    >>> a = b'{"flow":{"time":"T1","uuid":"u1","l4":{"TCP":{"source_port":1}}},"time":"T1"}'
    >>> b = b'{"flow":{"time":"T2","uuid":"u2","l4":{"TCP":{"source_port":22}}},"time":"T2"}'
    >>> normalize(a) == normalize(b) != None
    True
    """
    if not raw.startswith(_HEAD):
        return None
    q = raw.find(b'"', len(_HEAD))  # the end of the time value
    if q < 0 or q > 64:
        return None
    q += 1
    if raw.startswith(b',"uuid":"', q):
        r = raw.find(b'"', q + 9)
        if r < 0 or r - q > 96:
            return None
        q = r + 1
    if raw[q : q + 1] != b",":
        return None
    end = raw.rfind(b',"time":"')
    if end <= q:
        return None
    tail = raw[end + 9 :].rstrip()
    if not tail.endswith(b'"}') or tail.count(b'"') != 1:
        return None
    body = raw[q + 1 : end]
    i = body.find(b'"source_port":')
    if i < 0:
        return body
    j = i + 14
    while body[j : j + 1].isdigit():
        j += 1
    return body[:i] + body[j:]


@dataclass
class ReadStats:
    """What reading saw: lines, flows, responses without a flow, malformed lines."""

    lines: int = 0
    flows: int = 0
    not_flows: int = 0
    malformed: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    source: str = ""

    def bad(self, line: int, message: str) -> None:
        self.malformed += 1
        if len(self.errors) < KEEP_MALFORMED:
            self.errors.append((line, message))


def open_flows(path: str | Path) -> tuple[BinaryIO, int]:
    """The decompressed byte stream of ``path`` (``-``: stdin) and its size on disk (0: unknown).

    Gzip is recognised by its magic bytes, whatever the file is called.
    """
    if str(path) == "-":
        raw: BinaryIO = io.BufferedReader(sys.stdin.buffer)  # type: ignore[arg-type]
        size = 0
    else:
        p = Path(path)
        try:
            raw = p.open("rb", buffering=1 << 20)
            size = p.stat().st_size
        except OSError as exc:
            raise InvalidArgument(
                f"{path}: cannot read the flow log: {exc.strerror}",
                hint="give a file written by `hubble observe -o json` (or - for stdin)",
            ) from None
    head = raw.peek(2)[:2] if hasattr(raw, "peek") else b""  # type: ignore[attr-defined]
    if head == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw, mode="rb"), size  # type: ignore[return-value]
    return raw, size


def _unwrap(obj: Any, line: int, stats: ReadStats) -> Iterator[FlowItem]:
    if isinstance(obj, list):
        for item in obj:
            yield from _unwrap(item, line, stats)
        return
    if not isinstance(obj, dict):
        stats.bad(line, f"expected a JSON object, got {type(obj).__name__}")
        return
    inner = obj.get("flow")
    if isinstance(inner, dict):
        stats.flows += 1
        yield inner, obj.get("node_name") or obj.get("nodeName") or "", line
    elif any(k in obj for k in ("node_status", "lost_events", "nodeStatus", "lostEvents")):
        stats.not_flows += 1
    elif inner is not None:
        stats.bad(line, '"flow" is not an object')
    else:
        stats.flows += 1
        yield obj, "", line


def _position(exc: Exception) -> str:
    return str(exc).split(":", 1)[0] if isinstance(exc, orjson.JSONDecodeError) else str(exc)


def iter_flows(
    stream: BinaryIO,
    stats: ReadStats,
    on_progress: Progress | None = None,
    cache: LineCache | None = None,
) -> Iterator[FlowItem | ReplyItem]:
    """Every flow object of ``stream`` with its line number; malformed lines land in ``stats``.

    A compact line that says ``"is_reply":true`` and holds no DNS record is a reply replay
    skips anyway (:mod:`cmesh.replay.records`): it is yielded as ``None`` without being parsed,
    which saves a third of the parsing on real logs.  The bytes cannot occur inside a JSON
    string (its quotes would be escaped), so the test never misfires.

    With a ``cache`` (the consumer, :class:`cmesh.replay.records.FlowLog`), a line whose
    :func:`normalize` form was seen before is counted by the cache and not parsed at all;
    after a parsed flow has been consumed, the cache learns its normalized form.
    """
    loads = orjson.loads
    first = True
    done = 0
    lines = 0
    for raw in stream:
        lines += 1
        done += len(raw)
        if on_progress is not None and lines % 8192 == 0:
            on_progress(done)
        # ``is_reply`` comes late in protojson field order: look near the end only (a miss
        # just means the line is parsed)
        if raw.find(_REPLY, len(raw) - 1024) >= 0 and _DNS not in raw and raw[:1] == b"{":
            stats.flows += 1
            yield None, "", lines
            continue
        norm = normalize(raw) if cache is not None else None
        if norm is not None and cache.hit(norm, lines):  # type: ignore[union-attr]
            stats.flows += 1
            continue
        try:
            obj = loads(raw)
        except orjson.JSONDecodeError as exc:
            text = raw.strip()
            if not text:
                continue
            if first and text in (b"{", b"["):
                rest = stream.read()
                stats.lines = lines
                yield from _concatenated(raw + rest, stats, lines)
                done += len(rest)
                lines = stats.lines
                break
            stats.bad(lines, f"not JSON ({_position(exc)})")
            first = False
            continue
        first = False
        if type(obj) is dict:
            inner = obj.get("flow")
            if type(inner) is dict:
                stats.flows += 1
                yield inner, obj.get("node_name") or "", lines
                if norm is not None:
                    cache.learn(norm)  # type: ignore[union-attr]
                continue
        yield from _unwrap(obj, lines, stats)
    stats.lines = max(stats.lines, lines)
    if on_progress is not None:
        on_progress(done)


def _concatenated(data: bytes, stats: ReadStats, start_line: int) -> Iterator[FlowItem]:
    """Pretty-printed documents one after another (``jq .``): decode them one at a time."""
    text = data.decode("utf-8", errors="replace")
    decoder = json.JSONDecoder()
    pos = 0
    line = start_line
    while True:
        while pos < len(text) and text[pos] in " \t\r\n":
            if text[pos] == "\n":
                line += 1
            pos += 1
        if pos >= len(text):
            break
        try:
            obj, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            stats.bad(line, f"not JSON ({exc.msg})")
            nxt = text.find("\n{", pos + 1)
            if nxt < 0:
                break
            line += text.count("\n", pos, nxt + 1)
            pos = nxt + 1
            continue
        yield from _unwrap(obj, line, stats)
        line += text.count("\n", pos, end)
        pos = end
    stats.lines = max(stats.lines, line)


def read_flows(
    path: str | Path,
    stats: ReadStats | None = None,
    on_progress: Progress | None = None,
    cache: LineCache | None = None,
) -> Iterator[FlowItem | ReplyItem]:
    """Open ``path`` (``-``: stdin, gzip or not) and yield its flows (see :func:`iter_flows`)."""
    stats = stats if stats is not None else ReadStats()
    stats.source = "<stdin>" if str(path) == "-" else str(path)
    stream, _size = open_flows(path)
    try:
        yield from iter_flows(stream, stats, on_progress, cache)
    except (OSError, EOFError) as exc:  # a truncated or corrupt gzip member
        stats.bad(stats.lines + 1, f"cannot read further: {exc}")
    finally:
        if str(path) != "-":
            stream.close()
