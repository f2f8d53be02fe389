"""The cap on series: overall and per name prefix, so a cardinality explosion cannot take the
process down. New series past a cap are refused and counted; existing series keep working."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

#: Refused prefixes remembered for the board and the status page (the most refused win).
MAX_REMEMBERED_PREFIXES = 50


@dataclass(frozen=True)
class Refusals:
    """What the series cap has refused since start: for the board's alert and /status."""

    total: int
    since: float | None  # time of the first refusal
    last: float | None  # time of the latest refusal
    prefixes: tuple[tuple[str, int], ...]  # (prefix or "*" for the overall cap, refused)


class SeriesLimits:
    """Decides whether a new series may be created. Not thread-safe: the store's index lock
    guards it.

    >>> limits = SeriesLimits(max_series=3, per_prefix=2, depth=1)
    >>> [limits.admit(n, now=0.0) for n in ["a.x", "a.y", "a.z", "b.x", "c.x"]]
    [True, True, False, True, False]
    >>> limits.refusals().prefixes
    (('*', 1), ('a', 1))
    """

    def __init__(self, max_series: int = 0, per_prefix: int = 0, depth: int = 2) -> None:
        self.max_series = max_series
        self.per_prefix = per_prefix
        self.depth = depth
        self.count = 0
        self._by_prefix: Counter[str] = Counter()
        self._refused: Counter[str] = Counter()
        self._total = 0
        self._since: float | None = None
        self._last: float | None = None

    def prefix(self, name: str) -> str:
        """The first ``depth`` dot-separated parts of the path (no list per name: this runs
        once for every new series)."""
        tags = name.find(";")
        path = name if tags < 0 else name[:tags]
        end = -1
        for _ in range(self.depth):
            end = path.find(".", end + 1)
            if end < 0:
                return path
        return path[:end]

    def add(self, name: str) -> None:
        """Count a series that exists already (loaded from disk): never refused."""
        self.count += 1
        self._by_prefix[self.prefix(name)] += 1

    def admit(self, name: str, now: float) -> bool:
        """Count and allow a new series, or record a refusal and return False."""
        prefix = self.prefix(name)
        if self.max_series and self.count >= self.max_series:
            self._refuse("*", now)
            return False
        if self.per_prefix and self._by_prefix[prefix] >= self.per_prefix:
            self._refuse(prefix, now)
            return False
        self.count += 1
        self._by_prefix[prefix] += 1
        return True

    def admit_all(self, names: list[str]) -> bool:
        """Count and allow all these new series if none of them meets a cap; otherwise change
        nothing and return False (then ``admit`` them one by one, which refuses past a cap)."""
        if self.max_series and self.count + len(names) > self.max_series:
            return False
        counts = Counter(map(self.prefix, names))
        if self.per_prefix and any(
            self._by_prefix[p] + n > self.per_prefix for p, n in counts.items()
        ):
            return False
        self.count += len(names)
        self._by_prefix.update(counts)
        return True

    def _refuse(self, key: str, now: float) -> None:
        self._total += 1
        self._since = now if self._since is None else self._since
        self._last = now
        if key in self._refused or len(self._refused) < MAX_REMEMBERED_PREFIXES:
            self._refused[key] += 1

    def refusals(self) -> Refusals:
        top = tuple(sorted(self._refused.items(), key=lambda kv: (-kv[1], kv[0])))
        return Refusals(self._total, self._since, self._last, top)
