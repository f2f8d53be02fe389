"""The hot window: a preallocated ring of float32 values (and their times and scores) per series.

Graphs of recent data and the detector read from here; they never touch the durable store.

Memory: each point is one 16-byte record (time, value, score), and a series' ring is one row
of records, so the points a series holds lie together. The rings of ``RESERVE_SLOTS`` series
are reserved up front as address space only (anonymous memory mapped without a commit charge:
untouched pages are never backed, and no huge pages, which would back 2 MiB at a time):
growing to 100,000 series copies nothing, and a series costs the 4 KiB pages its points
reach — one page for its first 256 points, 11.25 KiB once its ring is full. Where the kernel
refuses the reservation (``vm.overcommit_memory=2``), or past it, the window grows by
doubling.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import numpy.typing as npt

from opsradar.core import FloatArray, IntArray, reserve_zeros

#: Series slots reserved as address space when the window is made (no memory until used).
RESERVE_SLOTS = 1 << 20
#: Most address space reserved for the window.
RESERVE_BYTES = 64 << 30
#: One point of a ring: its time, value and score.
POINT = np.dtype([("ts", np.float64), ("value", np.float32), ("score", np.float32)])


def _lazy_zeros(shape: tuple[int, ...], dtype: Any) -> npt.NDArray[Any]:
    """Zeros whose pages are only backed by memory once written."""
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    reserved = reserve_zeros(shape, dtype) if nbytes >= 1 << 20 else None
    if reserved is not None:
        return reserved
    return np.zeros(shape, dtype=dtype)  # calloc: large blocks are lazily zeroed pages too


class HotWindow:
    """``points`` most recent points per series slot.

    ``ts``, ``values`` and ``scores`` are ``(capacity, points)`` views of one array of
    ``POINT`` records. A position never written has time 0 and value 0, or NaN for both once
    its series was deleted: readers of whole rings select points by time, or by ``head`` and
    ``count``.
    """

    def __init__(self, points: int, capacity: int = 1024, reserve: int = RESERVE_SLOTS) -> None:
        self.points = points
        self._lock = threading.Lock()
        most = max(1, RESERVE_BYTES // (POINT.itemsize * points))
        self._alloc(max(capacity, min(reserve, most)))

    def _alloc(self, capacity: int) -> None:
        self.rings = _lazy_zeros((capacity, self.points), POINT)
        self.ts = self.rings["ts"]
        self.values = self.rings["value"]
        self.scores = self.rings["score"]
        self.head = _lazy_zeros((capacity,), np.int64)  # next write position
        self.count = _lazy_zeros((capacity,), np.int64)  # points written, saturating at `points`

    def clear(self, slot: int) -> None:
        """Forget every point of one slot (its series was deleted)."""
        with self._lock:
            if slot < self.capacity:
                self.head[slot] = 0
                self.count[slot] = 0
                self.ts[slot] = np.nan
                self.values[slot] = np.nan
                self.scores[slot] = 0.0

    @property
    def capacity(self) -> int:
        return int(self.head.shape[0])

    def _grow(self, need: int) -> None:
        capacity = self.capacity
        while capacity < need:
            capacity *= 2
        rings, head, count = self.rings, self.head, self.count
        used = int(np.flatnonzero(count).max(initial=-1)) + 1  # rows past it are untouched
        self._alloc(capacity)
        self.rings[:used], self.head[:used], self.count[:used] = (
            rings[:used],
            head[:used],
            count[:used],
        )

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
            uniq = s[starts]
            run_len = np.diff(np.r_[starts, len(s)])
            rank = np.arange(len(s)) - np.repeat(starts, run_len)
            pos = (self.head[s] + rank) % self.points
            self.ts[s, pos] = ts[order]
            self.values[s, pos] = values[order]
            if scores is not None:
                self.scores[s, pos] = scores[order]
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
        return self.points * POINT.itemsize + 16
