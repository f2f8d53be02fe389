"""A shipped test double: a ``PointSink`` that records every batch (thread-safe)."""

from __future__ import annotations

import threading

from opsradar.core import Point, PointBatch


class RecordingSink:
    """Keeps every batch put into it; handy in tests and for ``opsradar`` debugging tools.

    >>> sink = RecordingSink()
    >>> sink.put(PointBatch.from_points([Point("a", 1.0, 2.0)], protocol="http"))
    >>> sink.values()
    {'a': 2.0}
    """

    def __init__(self) -> None:
        self.batches: list[PointBatch] = []
        self._lock = threading.Lock()

    def put(self, batch: PointBatch) -> None:
        with self._lock:
            self.batches.append(batch)

    def points(self) -> list[Point]:
        with self._lock:
            batches = list(self.batches)
        return [p for b in batches for p in b.points()]

    def values(self) -> dict[str, float]:
        """The last value put for each series name."""
        return {p.name: p.value for p in self.points()}

    def count(self) -> int:
        with self._lock:
            return sum(len(b) for b in self.batches)
