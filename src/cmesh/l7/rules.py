"""L7 rules as the engine keeps them: HTTP and DNS (ref §1.10, §2.7, §2.8)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class HTTPRule:
    method: str = ""
    path: str = ""
    host: str = ""
    headers: tuple[str, ...] = ()
    header_matches: tuple[tuple[str, str, str, str], ...] = ()  # (name, value, secret, mismatch)

    def __str__(self) -> str:
        parts = [self.method or "*", self.path or "/*"]
        if self.host:
            parts.append(f"host={self.host}")
        parts += [f"[{h}]" for h in self.headers]
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class DNSRule:
    match_name: str = ""
    match_pattern: str = ""

    def __str__(self) -> str:
        return self.match_name or self.match_pattern
