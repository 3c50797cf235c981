"""Read manifest paths the way ``kubectl apply -f`` does: files, directories, ``-`` for stdin."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from cmesh.errors import InvalidArgument

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def read_sources(paths: Iterable[str], *, recursive: bool = True) -> list[tuple[str, str]]:
    """``(name, text)`` for every manifest: directories walked sorted (recursively by default),
    only ``.yaml``/``.yml``/``.json`` files taken from them; files named explicitly are read
    whatever their suffix.  ``-`` reads standard input once.
    """
    out: list[tuple[str, str]] = []
    for p in paths:
        if p == "-":
            out.append(("<stdin>", sys.stdin.read()))
            continue
        path = Path(p)
        if path.is_dir():
            files = sorted(
                f
                for f in (path.rglob("*") if recursive else path.glob("*"))
                if f.is_file() and f.suffix.lower() in MANIFEST_SUFFIXES
            )
            if not files:
                raise InvalidArgument(
                    f"{p}: the directory holds no .yaml, .yml or .json file",
                    hint="point -f at the manifests, e.g. -f examples/seed/",
                )
            out.extend((_display(f), read_text_file(f)) for f in files)
        elif path.exists():
            out.append((_display(path), read_text_file(path)))
        else:
            raise InvalidArgument(
                f'the path "{p}" does not exist', hint="check the spelling of the -f argument"
            )
    return out


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def read_text_file(path: str | Path, what: str = "manifest") -> str:
    """A file the user named, as UTF-8 text; anything else is an input error naming it."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidArgument(f"{path}: not UTF-8 text", hint=f"save the {what} as UTF-8") from None
    except OSError as exc:
        raise InvalidArgument(f"{path}: cannot read: {exc.strerror or exc}") from None
