"""The hot window: a preallocated ring of float32 values (and their times and scores) per series.

Graphs of recent data and the detector read from here; they never touch the durable store.
"""

from __future__ import annotations

import threading

import numpy as np
import numpy.typing as npt

from opsradar.core import FloatArray, IntArray


class HotWindow:
    """``points`` most recent points per series slot, growing in slots by doubling."""

    def __init__(self, points: int, capacity: int = 1024) -> None:
        self.points = points
        self._lock = threading.Lock()
        self._alloc(capacity)

    def _alloc(self, capacity: int) -> None:
        self.ts = np.full((capacity, self.points), np.nan, dtype=np.float64)
        self.values = np.full((capacity, self.points), np.nan, dtype=np.float32)
        self.scores = np.zeros((capacity, self.points), dtype=np.float32)
        self.head = np.zeros(capacity, dtype=np.int64)  # next write position
        self.count = np.zeros(capacity, dtype=np.int64)  # points written, saturating at `points`

    @property
    def capacity(self) -> int:
        return int(self.head.shape[0])

    def _grow(self, need: int) -> None:
        capacity = self.capacity
        while capacity < need:
            capacity *= 2
        old = (self.ts, self.values, self.scores, self.head, self.count)
        self._alloc(capacity)
        n = old[3].shape[0]
        self.ts[:n], self.values[:n], self.scores[:n] = old[0], old[1], old[2]
        self.head[:n], self.count[:n] = old[3], old[4]

    def append(
        self,
        slots: IntArray,
        ts: FloatArray,
        values: FloatArray,
        scores: npt.NDArray[np.floating] | None = None,
    ) -> None:
        """Append points in arrival order; several points of one slot keep their order."""
        if len(slots) == 0:
            return
        with self._lock:
            if int(slots.max()) >= self.capacity:
                self._grow(int(slots.max()) + 1)
            order = np.argsort(slots, kind="stable")
            s = slots[order]
            starts = np.r_[0, np.flatnonzero(np.diff(s)) + 1]
            run_len = np.diff(np.r_[starts, len(s)])
            rank = np.arange(len(s)) - np.repeat(starts, run_len)
            pos = (self.head[s] + rank) % self.points
            self.ts[s, pos] = ts[order]
            self.values[s, pos] = values[order]
            if scores is not None:
                self.scores[s, pos] = scores[order]
            uniq = s[starts]
            self.head[uniq] = (self.head[uniq] + run_len) % self.points
            self.count[uniq] = np.minimum(self.count[uniq] + run_len, self.points)

    def series(self, slot: int) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(ts, values, scores) of one slot, oldest first."""
        with self._lock:
            if slot >= self.capacity:
                empty = np.empty(0)
                return empty, empty, empty
            n = int(self.count[slot])
            idx = (self.head[slot] - n + np.arange(n)) % self.points
            return (
                self.ts[slot, idx].copy(),
                self.values[slot, idx].astype(np.float64),
                self.scores[slot, idx].astype(np.float64),
            )

    def oldest(self, slot: int) -> float:
        """Time of the oldest point held for ``slot`` (inf when none)."""
        with self._lock:
            if slot >= self.capacity or self.count[slot] == 0:
                return float("inf")
            n = int(self.count[slot])
            return float(self.ts[slot, (self.head[slot] - n) % self.points])

    def nbytes_per_series(self) -> int:
        return self.points * (8 + 4 + 4) + 16
