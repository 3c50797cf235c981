"""The user's home: where the store is, which context is current, and the clusters in it.

``CMESH_HOME`` (default ``~/.cmesh``) holds ``config.json`` (current context, kvstore URL) and,
with the embedded backend, the SQLite store ``store.db``.  Clusters live in the store, so
several machines pointed at one etcd see the same clusters.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmesh.cluster import ClusterConfig, default_node_cidr, default_pod_cidr, validate
from cmesh.errors import Conflict, InvalidArgument, NotFound
from cmesh.kvstore import Compare, Delete, Put, Store, open_store
from cmesh.registry import keys


def default_home() -> Path:
    return Path(os.environ.get("CMESH_HOME") or Path.home() / ".cmesh")


@dataclass
class Home:
    """An opened home.  ``kvstore`` overrides the URL recorded in ``config.json``."""

    path: Path
    kvstore: str = ""
    _store: Store | None = None

    @classmethod
    def open(cls, path: str | Path | None = None, kvstore: str = "") -> Home:
        return cls(Path(path) if path else default_home(), kvstore)

    # -- local settings -------------------------------------------------------------------
    def _settings_file(self) -> Path:
        return self.path / "config.json"

    def settings(self) -> dict[str, Any]:
        try:
            return json.loads(self._settings_file().read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise InvalidArgument(
                f"{self._settings_file()}: unreadable ({exc})",
                hint="fix or remove the file; it only records the current context",
            ) from None

    def save_settings(self, **changes: Any) -> None:
        data = {**self.settings(), **changes}
        data = {k: v for k, v in data.items() if v not in (None, "")}
        self.path.mkdir(parents=True, exist_ok=True)
        tmp = self._settings_file().with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
        tmp.replace(self._settings_file())

    # -- store ----------------------------------------------------------------------------
    @property
    def store_url(self) -> str:
        url = self.kvstore or os.environ.get("CMESH_KVSTORE") or self.settings().get("kvstore", "")
        return url or f"sqlite://{(self.path / 'store.db').resolve()}"

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = open_store(self.store_url)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    # -- clusters -------------------------------------------------------------------------
    def clusters(self) -> list[ClusterConfig]:
        kvs, _ = self.store.list(keys.CLUSTERS_PREFIX)
        return [ClusterConfig.from_dict(json.loads(kv.value)) for kv in kvs]

    def current_context(self) -> str:
        return os.environ.get("CMESH_CONTEXT") or self.settings().get("current-context", "")

    def cluster(self, context: str | None = None) -> ClusterConfig:
        """The cluster of ``--context`` / ``CMESH_CONTEXT`` / the current context."""
        name = context or self.current_context()
        clusters = self.clusters()
        if not name:
            if len(clusters) == 1:
                return clusters[0]
            raise InvalidArgument(
                "no context given and no current context is set",
                hint="pass --context NAME or run `cmesh config use-context NAME`"
                + (
                    f" (contexts: {', '.join(c.context for c in clusters)})"
                    if clusters
                    else "; create a cluster first with `cmesh install --context NAME ...`"
                ),
            )
        for c in clusters:
            if c.context == name:
                return c
        raise NotFound(
            f'context "{name}" does not exist',
            hint=(
                f"contexts: {', '.join(c.context for c in clusters)}"
                if clusters
                else "create it with `cmesh install --context NAME --cluster-name NAME --cluster-id N`"
            ),
        )

    def save_cluster(self, cfg: ClusterConfig, *, create: bool) -> None:
        """Record a cluster (validated against the others) atomically."""
        for _ in range(20):
            kvs, _ = self.store.list(keys.CLUSTERS_PREFIX)
            others = [ClusterConfig.from_dict(json.loads(kv.value)) for kv in kvs]
            if create and any(o.context == cfg.context for o in others):
                raise InvalidArgument(
                    f'context "{cfg.context}" already exists',
                    hint=f"remove it first with `cmesh uninstall --context {cfg.context}`",
                )
            validate(cfg, others)
            epoch = self.store.get(keys.GLOBAL_EPOCH)
            res = self.store.txn(
                [Compare.unchanged(keys.GLOBAL_EPOCH, epoch.mod_revision if epoch else 0)],
                [
                    Put(
                        keys.cluster_key(cfg.context),
                        json.dumps(cfg.to_dict(), sort_keys=True).encode(),
                    ),
                    Put(keys.GLOBAL_EPOCH, b"1"),
                ],
            )
            if res.succeeded:
                return
        raise Conflict("the home kept changing while saving the cluster", hint="retry the command")

    def new_cluster_defaults(self, cluster_id: int) -> tuple[str, str]:
        """A free pod CIDR and node subnet for a new cluster."""
        others = self.clusters()
        return (
            default_pod_cidr(cluster_id, [c.pod_cidr for c in others]),
            default_node_cidr([c.node_cidr for c in others]),
        )

    def remove_cluster(self, context: str) -> ClusterConfig:
        cfg = self.cluster(context)
        self.store.txn(
            [],
            [
                Delete(keys.cluster_key(context)),
                Delete(keys.registry_prefix(cfg.name), prefix=True),
                Put(keys.GLOBAL_EPOCH, b"1"),
            ],
        )
        if self.settings().get("current-context") == context:
            self.save_settings(**{"current-context": None})
        return cfg
