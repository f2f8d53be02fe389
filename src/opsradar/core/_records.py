"""Typed records that cross stage boundaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class Point(NamedTuple):
    """One observation of one series."""

    name: str
    ts: float
    value: float


@dataclass(frozen=True, slots=True)
class PointBatch:
    """Many points, columnar: ``names[i]`` had ``values[i]`` at unix time ``ts[i]``.

    This is what ingest hands to its sink; the store and detector work on it in bulk.
    """

    names: list[str]
    ts: FloatArray
    values: FloatArray
    protocol: str = "unknown"

    def __len__(self) -> int:
        return len(self.names)

    @classmethod
    def from_points(cls, points: list[Point], protocol: str = "unknown") -> PointBatch:
        return cls(
            names=[p.name for p in points],
            ts=np.fromiter((p.ts for p in points), dtype=np.float64, count=len(points)),
            values=np.fromiter((p.value for p in points), dtype=np.float64, count=len(points)),
            protocol=protocol,
        )

    def points(self) -> list[Point]:
        return [
            Point(n, float(t), float(v))
            for n, t, v in zip(self.names, self.ts, self.values, strict=True)
        ]


class PointSink(Protocol):
    """Where ingest delivers points. Must not block for long: receiving never waits."""

    def put(self, batch: PointBatch) -> None: ...


class RejectCounter(Protocol):
    """Counts input dropped on a wire protocol, by protocol and reason."""

    def reject(self, protocol: str, reason: str, n: int = 1) -> None: ...


@dataclass(frozen=True, slots=True)
class Event:
    """A deploy or other event. ``tags`` scope it (e.g. ``service=checkout``)."""

    ts: float
    what: str
    tags: tuple[str, ...] = ()
    data: str = ""
    id: int | None = None
    expect: tuple[tuple[str, str], ...] = field(default=())
