"""The ``cmesh`` command line (interfaces layer)."""

from cmesh.cli.main import cli, main

__all__ = ["cli", "main"]
