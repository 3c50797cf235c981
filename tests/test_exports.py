"""Every package's public surface (STYLE.md: each package's ``__init__`` lists what others use):
each exported name resolves, on first use, to the object its module defines."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import cmesh

PACKAGES = sorted(m.name for m in pkgutil.iter_modules(cmesh.__path__, "cmesh.") if m.ispkg)


@pytest.mark.parametrize("name", PACKAGES)
def test_every_exported_name_resolves_and_dir_lists_them(name: str) -> None:
    package = importlib.import_module(name)
    exported = getattr(package, "__all__", [])
    assert len(set(exported)) == len(exported)
    missing = [n for n in exported if getattr(package, n, None) is None]
    assert missing == []
    assert set(exported) <= set(dir(package))


@pytest.mark.parametrize("name", PACKAGES)
def test_an_unknown_name_is_an_attribute_error_naming_the_package(name: str) -> None:
    package = importlib.import_module(name)
    with pytest.raises(AttributeError, match=name.replace(".", r"\.")):
        package.no_such_name  # noqa: B018
