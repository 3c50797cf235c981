"""The flow store: one bounded ring of flows per cluster, kept in the kvstore (ref §4.6).

Hubble keeps the last flows of each node in a ring buffer (4095 by default); cmesh keeps the
last flows of each cluster under these keys:

==========================================  =================================================
``cmesh/hubble/<cluster>/flows/<seq:020>``  one flow, as its ``hubble observe -o json`` line
``cmesh/hubble/<cluster>/ring``             ``{"next": n, "first": f}``: ``n`` flows were ever
                                            added (seen_flows); sequences ``f .. n-1`` are kept
==========================================  =================================================

Zero-padded sequences make key order ring order.  Invariants: the kept sequences are
contiguous, and at most ``max_flows`` of them exist.

Atomicity and failures: :meth:`FlowStore.add` writes one batch in one transaction (the new
flows, the deletion of those pushed out of the ring, and the ring record), guarded by the ring
record's revision; a concurrent writer makes it retry, and after ``retries`` attempts it raises
:class:`~cmesh.errors.Conflict`.  A failed call changes nothing.  Reads see one snapshot.
Store failures surface as the store's own :class:`~cmesh.errors.StoreUnavailable`.

The core stays clock-free: callers pass ``now`` to :func:`cmesh.hubble.query.build_request`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from cmesh.errors import Compacted, Conflict, InvalidArgument
from cmesh.hubble.filters import FlowMatcher
from cmesh.hubble.flow import Flow
from cmesh.hubble.jsonpb import to_json_line
from cmesh.hubble.query import FlowsRequest, merge_by_time, select_flows
from cmesh.kvstore import Compare, Delete, EventType, KeyValue, Put, Store, TxnOp

PREFIX = "cmesh/hubble/"
#: Hubble's default ring capacity (``hubble-event-buffer-capacity``).
DEFAULT_MAX_FLOWS = 4095


def flows_prefix(cluster: str) -> str:
    return f"{PREFIX}{cluster}/flows/"


def flow_key(cluster: str, seq: int) -> str:
    return f"{flows_prefix(cluster)}{seq:020d}"


def ring_key(cluster: str) -> str:
    return f"{PREFIX}{cluster}/ring"


def _check_cluster(cluster: str) -> None:
    if not cluster or "/" in cluster:
        raise InvalidArgument(
            f"invalid cluster name {cluster!r} for the flow store",
            hint="use the cluster's name, e.g. cluster-1",
        )


@dataclass(frozen=True, slots=True)
class ServerStatus:
    """The flow counters of ``ServerStatusResponse`` (summed over the clusters asked for)."""

    num_flows: int = 0
    max_flows: int = 0
    seen_flows: int = 0


@dataclass(frozen=True, slots=True)
class _Ring:
    next: int = 0
    first: int = 0
    mod_revision: int = 0  # 0: no ring record yet

    @classmethod
    def of(cls, kv: KeyValue | None) -> _Ring:
        if kv is None:
            return cls()
        data = json.loads(kv.value)
        return cls(int(data["next"]), int(data["first"]), kv.mod_revision)


def _seq(key: str) -> int:
    return int(key.rsplit("/", 1)[1])


class FlowStore:
    """Bounded per-cluster flow rings over a :class:`~cmesh.kvstore.Store`."""

    def __init__(
        self, store: Store, *, max_flows: int = DEFAULT_MAX_FLOWS, retries: int = 16
    ) -> None:
        if max_flows < 1:
            raise ValueError("max_flows must be at least 1")
        self.store = store
        self.max_flows = max_flows
        self.retries = retries

    # -- writes ------------------------------------------------------------------------

    def add(self, cluster: str, flows: Iterable[Flow]) -> int:
        """Append ``flows`` (one batch, one transaction) and evict what falls out of the ring.

        Returns the store revision after the write (the current one for an empty batch).
        """
        _check_cluster(cluster)
        batch = [to_json_line(f).encode() for f in flows]
        if not batch:
            return self.store.revision()
        for _ in range(self.retries):
            ring = _Ring.of(self.store.get(ring_key(cluster)))
            new_next = ring.next + len(batch)
            new_first = max(ring.first, new_next - self.max_flows)
            ops: list[TxnOp] = [
                Delete(flow_key(cluster, s)) for s in range(ring.first, min(new_first, ring.next))
            ]
            for seq in range(max(ring.next, new_first), new_next):
                ops.append(Put(flow_key(cluster, seq), batch[seq - ring.next]))
            record = json.dumps({"next": new_next, "first": new_first}).encode()
            ops.append(Put(ring_key(cluster), record))
            guard = (
                Compare.unchanged(ring_key(cluster), ring.mod_revision)
                if ring.mod_revision
                else Compare.absent(ring_key(cluster))
            )
            result = self.store.txn([guard], ops)
            if result.succeeded:
                return result.revision
        raise Conflict(
            f"could not add flows to the {cluster} ring: it kept changing",
            hint="retry; several writers are adding flows to this cluster at once",
        )

    # -- reads -------------------------------------------------------------------------

    def status(self, clusters: Sequence[str]) -> ServerStatus:
        """Flows kept, ring capacity and flows ever seen, summed over ``clusters``."""
        num = seen = 0
        for cluster in clusters:
            _check_cluster(cluster)
            ring = _Ring.of(self.store.get(ring_key(cluster)))
            num += ring.next - ring.first
            seen += ring.next
        return ServerStatus(num, self.max_flows * len(clusters), seen)

    def flows(self, cluster: str) -> list[Flow]:
        """Every flow kept for ``cluster``, oldest first."""
        _check_cluster(cluster)
        kvs, _ = self.store.list(flows_prefix(cluster))
        return [Flow.from_json(kv.value) for kv in kvs]

    def _snapshot(self, clusters: Sequence[str]) -> tuple[dict[str, list[KeyValue]], int]:
        """The kept flow keys of each cluster, from one listing, and its revision."""
        for cluster in clusters:
            _check_cluster(cluster)
        kvs, revision = self.store.list(PREFIX)
        found: dict[str, list[KeyValue]] = {c: [] for c in clusters}
        for kv in kvs:
            cluster, _, rest = kv.key[len(PREFIX) :].partition("/")
            if cluster in found and rest.startswith("flows/"):
                found[cluster].append(kv)
        return found, revision

    def _history(self, snapshot: dict[str, list[KeyValue]], request: FlowsRequest) -> list[Flow]:
        selected = [
            select_flows((Flow.from_json(kv.value) for kv in kvs), request)
            for kvs in snapshot.values()
        ]
        return selected[0] if len(selected) == 1 else merge_by_time(selected)

    def get_flows(self, clusters: Sequence[str], request: FlowsRequest) -> list[Flow]:
        """The flows ``hubble observe`` prints for ``request`` (without following)."""
        snapshot, _ = self._snapshot(clusters)
        return self._history(snapshot, request)

    def follow(
        self, clusters: Sequence[str], request: FlowsRequest, *, timeout: float | None = None
    ) -> Iterator[Flow]:
        """``--follow``: the history for ``request``, then every new matching flow.

        The listing is taken when this is called (not when iteration starts), so flows added
        afterwards are never missed.  With ``timeout`` the stream ends after that many seconds
        without a change in the store (``0``: drain what is there now); without, it blocks.
        A compacted watch history is recovered by listing again.
        """
        snapshot, revision = self._snapshot(clusters)
        history = self._history(snapshot, request)
        last_seq = {c: (_seq(kvs[-1].key) if kvs else -1) for c, kvs in snapshot.items()}
        return self._stream(history, list(clusters), request, revision, last_seq, timeout)

    def _stream(
        self,
        history: list[Flow],
        clusters: list[str],
        request: FlowsRequest,
        revision: int,
        last_seq: dict[str, int],
        timeout: float | None,
    ) -> Iterator[Flow]:
        yield from history
        matcher = FlowMatcher(request.whitelist, request.blacklist)
        while True:
            try:
                for event in self.store.watch(PREFIX, revision + 1, timeout=timeout):
                    revision = event.revision
                    if event.type is not EventType.PUT or event.kv is None:
                        continue
                    cluster, _, rest = event.key[len(PREFIX) :].partition("/")
                    if cluster not in last_seq or not rest.startswith("flows/"):
                        continue
                    last_seq[cluster] = max(last_seq[cluster], _seq(event.key))
                    flow = Flow.from_json(event.kv.value)
                    if request.in_range(flow) and matcher(flow):
                        yield flow
                return
            except Compacted:
                snapshot, revision = self._snapshot(clusters)
                missed = [
                    Flow.from_json(kv.value)
                    for c, kvs in snapshot.items()
                    for kv in kvs
                    if _seq(kv.key) > last_seq[c]
                ]
                for c, kvs in snapshot.items():
                    if kvs:
                        last_seq[c] = max(last_seq[c], _seq(kvs[-1].key))
                yield from (f for f in missed if request.in_range(f) and matcher(f))
