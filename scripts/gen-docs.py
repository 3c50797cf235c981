#!/usr/bin/env python3
"""Regenerate docs/commands.md from the CLI."""

from pathlib import Path

from cmesh.cli.reference import reference

out = Path(__file__).resolve().parents[1] / "docs" / "commands.md"
out.write_text(reference() + "\n")
print(f"wrote {out}")
