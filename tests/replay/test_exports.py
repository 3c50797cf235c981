"""The public surfaces of cmesh.replay and cmesh.generate (STYLE.md rule 6)."""

from __future__ import annotations

import pytest

import cmesh.generate as generate
import cmesh.replay as replay


@pytest.mark.parametrize("package", [replay, generate], ids=["replay", "generate"])
def test_every_exported_name_exists_once(package):
    assert [name for name in package.__all__ if not hasattr(package, name)] == []
    assert sorted(set(package.__all__)) == sorted(package.__all__) == sorted(dir(package))


def test_the_cli_uses_only_the_public_surface():
    needed_replay = {"read_log", "run_replay", "render_text", "render_markdown"}
    needed_generate = {"generate", "render_yaml", "audit_report", "promote"}
    assert needed_replay <= set(replay.__all__)
    assert needed_generate <= set(generate.__all__)
