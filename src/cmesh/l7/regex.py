"""RE2 regular expressions with Go's semantics (google-re2), compiled once and cached.

HTTP ``path``/``method``/``host`` are RE2 expressions matched against the whole value, as
Envoy's ``safe_regex`` does (ref §2.7); a pathological pattern runs in linear time.
"""

from __future__ import annotations

from functools import lru_cache

import re2


@lru_cache(maxsize=4096)
def compile_re2(pattern: str) -> tuple[object | None, str]:
    """``(compiled, "")`` or ``(None, error text)``."""
    try:
        return re2.compile(pattern), ""
    except re2.error as exc:
        return None, str(exc)


def full_match(pattern: str, value: str) -> bool:
    compiled, _ = compile_re2(pattern)
    if compiled is None:
        return False
    return compiled.fullmatch(value) is not None  # type: ignore[attr-defined]
