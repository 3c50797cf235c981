"""RE2 regular expressions with Go's semantics (google-re2), compiled once and cached.

HTTP ``path``/``method``/``host`` are RE2 expressions matched against the whole value, as
Envoy's ``safe_regex`` does (ref §2.7); a pathological pattern runs in linear time.
"""

from __future__ import annotations

from functools import lru_cache

import re2


def compile_go(pattern: str) -> object:
    """Compile as Go's ``regexp`` would (RE2 syntax); raises ``re2.error`` with readable text.

    RE2 logs each syntax error to stderr itself ("E0000 … re2.cc:242] Error parsing …")
    unless told not to; the caller reports the error once, with where it came from."""
    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        raise re2.error(error_text(exc)) from None


def error_text(exc: Exception) -> str:
    """The message of an ``re2.error`` (google-re2 carries it as bytes)."""
    arg = exc.args[0] if exc.args else exc
    return arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(arg)


@lru_cache(maxsize=4096)
def compile_re2(pattern: str) -> tuple[object | None, str]:
    """``(compiled, "")`` or ``(None, error text)``."""
    try:
        return compile_go(pattern), ""
    except re2.error as exc:
        return None, error_text(exc)


def full_match(pattern: str, value: str) -> bool:
    compiled, _ = compile_re2(pattern)
    if compiled is None:
        return False
    return compiled.fullmatch(value) is not None  # type: ignore[attr-defined]
