"""The guide's clusters with recorded flows, built once per module (see ``guide.py``)."""

from __future__ import annotations

import pytest

from tests.replay.guide import Guide, build


@pytest.fixture(scope="module")
def guide(tmp_path_factory: pytest.TempPathFactory) -> Guide:
    return build(tmp_path_factory.mktemp("guide"))
