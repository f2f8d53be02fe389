"""The tool's own metrics, in the format ops already scrape (prometheus_client).

A fresh ``SelfMetrics`` owns a fresh registry, so tests never share counters.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class SelfMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.points_received = Counter(
            "opsradar_points_received", "Points accepted, by protocol.", ["protocol"], registry=r
        )
        self.lines_rejected = Counter(
            "opsradar_lines_rejected",
            "Lines, datagrams or requests dropped, by protocol and reason.",
            ["protocol", "reason"],
            registry=r,
        )
        self.series = Gauge("opsradar_series", "Distinct series known.", registry=r)
        self.detector_latency = Histogram(
            "opsradar_detector_latency_seconds",
            "Time to score one batch of points.",
            buckets=(0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5),
            registry=r,
        )
        self.points_scored = Counter(
            "opsradar_points_scored", "Points scored by the detector.", registry=r
        )
        self.queue_depth = Gauge(
            "opsradar_queue_depth", "Batches waiting between ingest and store.", registry=r
        )
        self.store_errors = Counter(
            "opsradar_store_errors", "Durable store write failures.", registry=r
        )

    def reject(self, protocol: str, reason: str, n: int = 1) -> None:
        self.lines_rejected.labels(protocol, reason).inc(n)

    def received(self, protocol: str, n: int) -> None:
        self.points_received.labels(protocol).inc(n)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def rejected_by_reason(self) -> dict[str, float]:
        """``{"protocol/reason": count}`` for the status page and API."""
        out: dict[str, float] = {}
        for metric in self.lines_rejected.collect():
            for sample in metric.samples:
                if sample.name.endswith("_total"):
                    key = f"{sample.labels['protocol']}/{sample.labels['reason']}"
                    out[key] = sample.value
        return out
