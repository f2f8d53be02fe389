"""Helpers for ingest tests: a recording sink, waits, counters, senders."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

from opsradar.core import PointBatch, SelfMetrics


class RecordingSink:
    """A PointSink that keeps every batch; thread-safe."""

    def __init__(self) -> None:
        self.batches: list[PointBatch] = []
        self._lock = threading.Lock()

    def put(self, batch: PointBatch) -> None:
        with self._lock:
            self.batches.append(batch)

    def points(self) -> list[tuple[str, float, float]]:
        with self._lock:
            return [(p.name, p.ts, p.value) for b in self.batches for p in b.points()]

    def values(self) -> dict[str, float]:
        """Last value per name."""
        return {name: value for name, _, value in self.points()}

    def count(self) -> int:
        with self._lock:
            return sum(len(b) for b in self.batches)


def wait_until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.005)


def rejected(metrics: SelfMetrics) -> dict[str, float]:
    return metrics.rejected_by_reason()


def received(metrics: SelfMetrics, protocol: str) -> float:
    value = metrics.registry.get_sample_value(
        "opsradar_points_received_total", {"protocol": protocol}
    )
    return value or 0.0


def send_udp(port: int, *datagrams: bytes) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for d in datagrams:
            s.sendto(d, ("127.0.0.1", port))
