"""Shared fixtures: a fresh home per test and a CLI runner bound to it."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cmesh.cli import cli
from cmesh.registry import Home

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
SHARED = REPO.parent / "shared"
SEED = EXAMPLES / "seed"


@dataclass
class Cmesh:
    """Runs ``cmesh`` commands against one home, as a user would type them."""

    home: Path
    runner: CliRunner

    def __call__(self, *args: str, input: str | None = None, ok: bool = True) -> Result:
        res = self.runner.invoke(
            cli, ["--home", str(self.home), *args], input=input, catch_exceptions=False
        )
        if ok and res.exit_code != 0:
            raise AssertionError(
                f"cmesh {' '.join(args)} exited {res.exit_code}:\n{res.output}\n{res.stderr}"
            )
        return res

    def store_dump(self) -> dict[str, bytes]:
        """Every key and value of the store (to prove a failed command changed nothing)."""
        h = Home.open(self.home)
        try:
            kvs, _ = h.store.list("")
            return {kv.key: kv.value for kv in kvs}
        finally:
            h.close()


@pytest.fixture
def cmesh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cmesh:
    monkeypatch.delenv("CMESH_CONTEXT", raising=False)
    monkeypatch.delenv("CMESH_KVSTORE", raising=False)
    monkeypatch.delenv("CMESH_HOME", raising=False)
    return Cmesh(tmp_path / "home", CliRunner())


def guide_clusters(
    c: Cmesh, *manifests: Path, n: int = 2, connect: bool = True, flags: Sequence[str] = ()
) -> Cmesh:
    """cluster-1 … cluster-``n`` (ids 1 … ``n``) installed as the guide installs them, each
    with ``manifests`` applied; with ``connect``, clustermesh enabled on each (LoadBalancer)
    and every pair connected.  ``flags`` go before every command (``--kvstore URL``)."""
    for i in range(1, n + 1):
        ctx = f"cluster-{i}"
        install = ("install", "--context", ctx, "--cluster-name", ctx, "--cluster-id", str(i))
        c(*flags, *install, "--ipam", "kubernetes")
        if manifests:
            c(*flags, "apply", *(a for m in manifests for a in ("-f", str(m))), "--context", ctx)
        if connect:
            c(*flags, "clustermesh", "enable", "--context", ctx, "--service-type", "LoadBalancer")
    if connect:
        for i, j in itertools.combinations(range(1, n + 1), 2):
            pair = ("--context", f"cluster-{i}", "--destination-context", f"cluster-{j}")
            c(*flags, "clustermesh", "connect", *pair)
    return c


@pytest.fixture
def two_clusters(cmesh: Cmesh) -> Cmesh:
    """cluster-1 (id 1) and cluster-2 (id 2), installed as in the guide."""
    return guide_clusters(cmesh, connect=False)


def pods_yaml(*names: str) -> str:
    """Bare pods in ``default``, each labelled ``app: <its name>``, as YAML documents."""
    return "".join(
        "apiVersion: v1\nkind: Pod\n"
        f"metadata: {{name: {n}, namespace: default, labels: {{app: {n}}}}}\n"
        "spec: {containers: [{name: c, image: x}]}\n---\n"
        for n in names
    )


def write(tmp: Path, name: str, text: str) -> Path:
    p = tmp / name
    p.write_text(text)
    return p


Writer = Callable[[str, str], Path]


@pytest.fixture
def manifest(tmp_path: Path) -> Writer:
    d = tmp_path / "manifests"
    d.mkdir()
    return lambda name, text: write(d, name, text)
