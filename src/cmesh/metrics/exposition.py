"""The Prometheus exposition of a cluster: stored counters plus gauges read from its state."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from cmesh.metrics.counters import Key

HELP = {
    "cilium_drop_count_total": "Total dropped packets, tagged by drop reason and ingress/egress direction",
    "cilium_drop_bytes_total": "Total dropped bytes, tagged by drop reason and ingress/egress direction",
    "cilium_forward_count_total": "Total forwarded packets, tagged by ingress/egress direction",
    "cilium_forward_bytes_total": "Total forwarded bytes, tagged by ingress/egress direction",
    "cilium_policy_l7_total": "Number of total proxy requests handled",
    "hubble_flows_processed_total": "Total number of flows processed",
    "hubble_drop_total": "Number of drops",
    "hubble_policy_verdicts_total": "Number of policy verdicts",
    "hubble_dns_queries_total": "Number of DNS queries observed",
    "hubble_dns_responses_total": "Number of DNS responses observed",
    "hubble_http_requests_total": "Count of HTTP requests",
    "cmesh_policy_verdicts_total": "Policy verdicts by the policy that decided them and the clusters of both ends",
}


class _Collector:
    def __init__(
        self, counters: dict[Key, float], gauges: list[tuple[str, str, dict[str, str], float]]
    ) -> None:
        self.counters = counters
        self.gauges = gauges

    def collect(self) -> Any:
        by_name: dict[str, list[tuple[tuple[tuple[str, str], ...], float]]] = defaultdict(list)
        for (name, labels), v in sorted(self.counters.items()):
            by_name[name].append((labels, v))
        for name, rows in sorted(by_name.items()):
            label_names = [k for k, _ in rows[0][0]]
            base = name[: -len("_total")] if name.endswith("_total") else name
            fam = CounterMetricFamily(base, HELP.get(name, name), labels=label_names)
            for labels, v in rows:
                fam.add_metric([v2 for _, v2 in labels], v)
            yield fam
        gfams: dict[str, GaugeMetricFamily] = {}
        for name, help_, labels, value in self.gauges:
            if name not in gfams:
                gfams[name] = GaugeMetricFamily(name, help_, labels=list(labels))
            gfams[name].add_metric(list(labels.values()), value)
        yield from gfams.values()


def render(
    counters: dict[Key, float], gauges: list[tuple[str, str, dict[str, str], float]]
) -> bytes:
    reg = CollectorRegistry()
    reg.register(_Collector(counters, gauges))  # type: ignore[arg-type]
    return generate_latest(reg)
