"""The command reference in docs/ is generated from the CLI and must be current."""

from cmesh.cli.reference import reference
from tests.conftest import REPO


def test_docs_commands_md_is_current():
    doc = (REPO / "docs" / "commands.md").read_text()
    assert doc == reference() + "\n", "docs/commands.md is stale: run `python scripts/gen-docs.py`"
