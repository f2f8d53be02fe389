"""How often each series had anomalies before: the rarity part of a trend's severity."""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from collections.abc import Iterable

RARITY_WINDOW = 7 * 86400.0
MIN_APART = 300.0  # episodes of one series closer than this count once


class EpisodeHistory:
    """Start times of episodes per series name, for the last ``RARITY_WINDOW``.

    >>> h = EpisodeHistory()
    >>> h.add([("a", 100.0, "spike"), ("a", 5000.0, "spike"), ("a", 5010.0, "spike")])
    [('a', 100.0, 'spike'), ('a', 5000.0, 'spike')]
    >>> h.prior("a", 5000.0), h.prior("a", 9000.0), h.prior("b", 9000.0)
    (1, 2, 0)
    """

    def __init__(self) -> None:
        self._starts: dict[str, list[float]] = defaultdict(list)
        self._lock = threading.Lock()

    def add(self, rows: Iterable[tuple[str, float, str]]) -> list[tuple[str, float, str]]:
        """Record episode starts; return those that were new (to persist them)."""
        fresh = []
        with self._lock:
            for name, start, kind in rows:
                starts = self._starts[name]
                i = bisect.bisect_left(starts, start)
                near = [s for s in starts[max(0, i - 1) : i + 1] if abs(s - start) < MIN_APART]
                if not near:
                    starts.insert(i, start)
                    fresh.append((name, start, kind))
        return fresh

    def prior(self, name: str, before: float) -> int:
        """Episodes of ``name`` that started in the week before ``before`` (not at it)."""
        with self._lock:
            starts = self._starts.get(name)
            if not starts:
                return 0
            hi = bisect.bisect_left(starts, before - MIN_APART / 2)
            lo = bisect.bisect_left(starts, before - RARITY_WINDOW)
            return max(0, hi - lo)

    def forget(self, before: float) -> None:
        with self._lock:
            for name in list(self._starts):
                starts = self._starts[name]
                del starts[: bisect.bisect_left(starts, before)]
                if not starts:
                    del self._starts[name]
