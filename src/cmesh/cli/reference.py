"""Generate the command reference (docs/commands.md) from the CLI itself, so it cannot drift."""

from __future__ import annotations

import click


def _walk(cmd: click.Command, path: list[str]) -> list[tuple[list[str], click.Command]]:
    out = [(path, cmd)]
    if isinstance(cmd, click.Group):
        ctx = click.Context(cmd)
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                out += _walk(sub, [*path, name])
    return out


def _usage(path: list[str], cmd: click.Command) -> str:
    ctx = click.Context(cmd, info_name=" ".join(["cmesh", *path]))
    return " ".join(cmd.collect_usage_pieces(ctx))


def reference() -> str:
    from cmesh.cli.main import cli

    lines = [
        "# Command reference",
        "",
        "Generated from the CLI by `python scripts/gen-docs.py`; `tests/cli/test_reference.py` fails when",
        "this file is stale. Global options (`--home`, `--kvstore`, `--context`, `-q`, `--color`) go before",
        "the command; `--context` is also accepted after it.",
        "",
    ]
    for path, cmd in _walk(cli, []):
        if not path:
            continue
        name = " ".join(["cmesh", *path])
        lines += [f"## {name}", "", (cmd.help or cmd.short_help or "").strip().split("\n")[0], ""]
        lines += ["```", f"{name} {_usage(path, cmd)}".rstrip(), "```", ""]
        opts = [p for p in cmd.params if isinstance(p, click.Option) and not p.hidden]
        if opts:
            lines += ["| option | meaning |", "|---|---|"]
            for p in opts:
                flags = ", ".join(f"`{o}`" for o in [*p.opts, *p.secondary_opts])
                help_ = (p.help or "").replace("|", "\\|")
                if isinstance(p.type, click.Choice):
                    help_ += f" One of: {', '.join(p.type.choices)}."
                lines.append(f"| {flags} | {help_} |")
            lines.append("")
    return "\n".join(lines)
