"""One cluster's objects in the store: read them, apply and delete manifests atomically.

Every apply is one transaction guarded by the cluster's epoch key (compare-and-swap): two
``cmesh apply`` processes on one cluster both succeed one after the other, or the loser
retries from the new state; nothing is half-written and a re-apply of the same objects writes
nothing.  Planning (workloads, addresses, identities) is the pure :mod:`cmesh.cluster.plan`.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cmesh.cluster import ClusterConfig, Inventory, ObjKey, Plan, plan_apply, plan_delete
from cmesh.errors import Conflict, Diagnostic, InvalidManifest, InvalidPolicy, Severity
from cmesh.kvstore import Compare, Delete, Put, Store
from cmesh.model import Resource
from cmesh.policy import validate_all
from cmesh.registry import keys

MAX_ATTEMPTS = 30


@dataclass
class Change:
    """What an apply or delete did, per object, in kubectl's words."""

    created: list[ObjKey] = field(default_factory=list)
    configured: list[ObjKey] = field(default_factory=list)
    unchanged: list[ObjKey] = field(default_factory=list)
    deleted: list[ObjKey] = field(default_factory=list)
    not_found: list[ObjKey] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    revision: int = 0


@dataclass(frozen=True)
class Stored:
    """An object as kept in the store: the object, where it was applied from, field lines."""

    obj: dict[str, Any]
    source: str
    lines: dict[str, int]

    def encode(self) -> bytes:
        env: dict[str, Any] = {"object": self.obj, "source": self.source}
        if self.lines:
            env["lines"] = self.lines
        return json.dumps(env, sort_keys=True, separators=(",", ":")).encode()


class ClusterRegistry:
    def __init__(self, store: Store, cfg: ClusterConfig) -> None:
        self.store = store
        self.cfg = cfg

    def stored(self) -> tuple[dict[ObjKey, Stored], int]:
        """All objects of the cluster as stored, and the store revision of the read."""
        kvs, rev = self.store.list(keys.registry_prefix(self.cfg.name))
        out: dict[ObjKey, Stored] = {}
        for kv in kvs:
            k = keys.parse_object_key(self.cfg.name, kv.key)
            if k is None:
                continue
            env = json.loads(kv.value)
            out[k] = Stored(env["object"], env.get("source", ""), env.get("lines") or {})
        return out, rev

    def objects(self) -> dict[ObjKey, dict[str, Any]]:
        return {k: s.obj for k, s in self.stored()[0].items()}

    def inventory(self) -> Inventory:
        return Inventory.build(self.objects())

    def apply(self, resources: Sequence[Resource], *, dry_run: bool = False) -> Change:
        """Validate policies as Cilium would (ref §1.2-§1.11), then apply all or nothing."""
        InvalidPolicy.raise_if_errors(list(validate_all(resources)))
        return self._commit(
            lambda cur: (plan_apply(self.cfg, cur, resources), []), resources, dry_run
        )

    def delete(self, resources: Sequence[Resource], *, dry_run: bool = False) -> Change:
        return self._commit(lambda cur: plan_delete(self.cfg, cur, resources), resources, dry_run)

    def _commit(self, planner: Any, resources: Sequence[Resource], dry_run: bool) -> Change:
        name = self.cfg.name
        for _attempt in range(MAX_ATTEMPTS):
            epoch = self.store.get(keys.epoch_key(name))
            stored, _ = self.stored()
            current = {k: s.obj for k, s in stored.items()}
            plan, missing = planner(current)
            plan: Plan
            if not plan.ok:
                raise InvalidManifest(plan.diagnostics)
            _stamp(plan, current, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
            change = self._diff(current, plan, resources)
            change.not_found = list(missing)
            change.warnings = [d for d in plan.diagnostics if d.severity is Severity.WARNING]
            ops = self._ops(stored, plan)
            if dry_run or not ops:
                return change
            res = self.store.txn(
                [Compare.unchanged(keys.epoch_key(name), epoch.mod_revision if epoch else 0)],
                [*ops, Put(keys.epoch_key(name), b"1")],
            )
            if res.succeeded:
                change.revision = res.revision
                return change
            time.sleep(random.uniform(0.005, 0.05))
        raise Conflict(
            f"cluster {name} kept changing while applying; {MAX_ATTEMPTS} attempts failed",
            hint="retry the command",
        )

    def _ops(self, stored: dict[ObjKey, Stored], plan: Plan) -> list[Put | Delete]:
        """Puts of what the plan changes (object, source or field lines), deletes of the rest."""
        ops: list[Put | Delete] = []
        for k in sorted(set(stored) - set(plan.objects)):
            ops.append(Delete(keys.object_key(self.cfg.name, k)))
        for k, obj in sorted(plan.objects.items()):
            old = stored.get(k)
            new = Stored(
                obj,
                plan.sources.get(k, old.source if old else ""),
                plan.lines.get(k, old.lines if old else {}),
            )
            if new != old:
                ops.append(Put(keys.object_key(self.cfg.name, k), new.encode()))
        return ops

    @staticmethod
    def _diff(
        current: dict[ObjKey, dict[str, Any]],
        plan: Plan,
        resources: Sequence[Resource],
    ) -> Change:
        ch = Change()
        for r in resources:
            k = r.key
            if k in plan.objects:
                if k not in current:
                    ch.created.append(k)
                elif current[k] != plan.objects[k]:
                    ch.configured.append(k)
                else:
                    ch.unchanged.append(k)
            elif k in current:
                ch.deleted.append(k)
        return ch


def _stamp(plan: Plan, current: dict[ObjKey, dict[str, Any]], now: str) -> None:
    """Give new objects a creationTimestamp and keep the one existing objects have."""
    for k, obj in plan.objects.items():
        m = obj.get("metadata")
        if not isinstance(m, dict) or m.get("creationTimestamp"):
            continue
        old = (current.get(k) or {}).get("metadata") or {}
        obj["metadata"] = {**m, "creationTimestamp": old.get("creationTimestamp") or now}


def check(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    """Raise :class:`InvalidManifest` listing every error; return the warnings."""
    InvalidManifest.raise_if_errors(diagnostics)
    return [d for d in diagnostics if d.severity is Severity.WARNING]
