"""The ranker the server runs: episodes, new and stopped series, events and feedback in;
trends, deploy impact, "what moved" and "since you last looked" out."""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from opsradar.core import Event, NotFound
from opsradar.detect import Episode
from opsradar.rank._family import scope_words
from opsradar.rank._history import RARITY_WINDOW, EpisodeHistory
from opsradar.rank._trends import Trend, build_trends, is_deploy
from opsradar.rank._windows import Window, change_scores, window_stats
from opsradar.store import FEEDBACK_FILE, FeedbackLog, Store

TRENDS_CACHE = 1.0  # seconds a computed board is reused
EVENT_LOOKBACK = 3 * 86400.0
NEW_WINDOW = 3600.0  # a series first seen this recently is "new"...
NEW_BASELINE = 1800.0  # ...if opsradar had been receiving other series for this long before
SAME_VISIT = 600.0  # board views closer than this are one visit
SEEN_KEEP = 5000  # trends kept for their stable URLs after they leave the board
WEEK = 7 * 86400.0
_DAEMON_OWN = ("stats.statsd.", "stats.counters.statsd.", "stats.gauges.statsd.", "statsd.")
_ERRORISH = ("error", "fail", "exception", "5xx", "timeout", "panic", "reject")


@dataclass(frozen=True)
class Change:
    """How much one series moved from one window to the next (and against last week)."""

    name: str
    before: float
    after: float
    z: float  # (after - before) in units of the earlier spread
    score: float
    spread: float = 0.0  # the spread z is measured in
    week: float | None = None  # mean over the same window a week earlier
    z_week: float | None = None
    note: str = ""  # "appeared" | "vanished" | ""


@dataclass(frozen=True)
class Impact:
    event: Event
    scope: tuple[str, ...]  # the words a series name must contain to be in scope
    after: Window
    before: Window
    in_scope: int  # series considered
    ready: bool  # at least one point after the deploy
    changes: list[Change]
    trends: list[Trend]  # trends that name this deploy


class Ranker:
    """Board state for the web layer. ``episodes`` is the engine's, behind its lock."""

    def __init__(
        self,
        episodes: Callable[[float], list[Episode]],
        store: Store,
        feedback: FeedbackLog | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._episodes = episodes
        self.store = store
        self.clock = clock
        self._feedback = feedback
        self.history = EpisodeHistory()
        self._history_loaded = False
        self._cache: tuple[float, list[Trend]] = (-math.inf, [])
        self._seen: OrderedDict[str, Trend] = OrderedDict()
        self._lock = threading.Lock()
        self._words: dict[str, list[int]] = {}
        self._indexed = 0
        self.last_compute_s = 0.0

    @property
    def feedback(self) -> FeedbackLog:
        """Opened on first use, beside the store's files."""
        if self._feedback is None:
            self._feedback = FeedbackLog(self.store.data_dir / FEEDBACK_FILE)
        return self._feedback

    def close(self) -> None:
        if self._feedback is not None:
            self._feedback.close()

    def invalidate(self) -> None:
        """Drop the cached board (feedback changes the ranking at once)."""
        with self._lock:
            self._cache = (-math.inf, [])

    # -- the board --------------------------------------------------------------------------
    def trends(self) -> list[Trend]:
        now = self.clock()
        with self._lock:
            if now - self._cache[0] < TRENDS_CACHE:
                return self._cache[1]
            started = time.perf_counter()
            self._load_history(now)
            names = self.store.names
            episodes = self._episodes(now) + self.new_series(now)
            self._remember(episodes, names)
            events = self.store.events(now - EVENT_LOOKBACK, now + 60)
            rules = self.feedback.active(now)
            trends = build_trends(episodes, names, events, now, rules, self.history)
            self._cache = (now, trends)
            for t in trends:
                self._seen[t.id] = t
                self._seen.move_to_end(t.id)
            while len(self._seen) > SEEN_KEEP:
                self._seen.popitem(last=False)
            self.last_compute_s = time.perf_counter() - started
            return trends

    def trend(self, trend_id: str) -> Trend:
        """A trend on the board now, or one seen recently (its URL stays valid)."""
        for t in self.trends():
            if t.id == trend_id:
                return t
        with self._lock:
            found = self._seen.get(trend_id)
        if found is None:
            raise NotFound(f"no trend with id {trend_id!r}")
        return found

    def _load_history(self, now: float) -> None:
        if not self._history_loaded:
            self.history.add(self.feedback.episode_history(now - RARITY_WINDOW))
            self._history_loaded = True

    def _remember(self, episodes: Sequence[Episode], names: Sequence[str]) -> None:
        rows = [
            (names[e.slot], e.start, e.kind)
            for e in episodes
            if e.slot < len(names) and e.kind not in ("stopped", "new")
        ]
        self.feedback.record_episodes(self.history.add(rows))

    def new_series(self, now: float) -> list[Episode]:
        """Series first seen in the last hour, while others had been reporting for longer."""
        hot = self.store.hot
        ts, values, head, count = hot.ts, hot.values, hot.head, hot.count
        n = min(len(self.store.names), len(head), len(count), ts.shape[0])
        if n == 0:
            return []
        count, head = count[:n], head[:n]
        rows = np.arange(n)
        first = ts[rows, (head - count) % hot.points]
        have = count > 0
        if not have.any():
            return []
        oldest = float(np.nanmin(np.where(have, first, np.inf)))
        young = have & (count < hot.points) & (first >= now - NEW_WINDOW)
        young &= first - oldest >= NEW_BASELINE
        out = []
        for k in np.flatnonzero(young):
            name = self.store.names[k]
            if name.startswith(_DAEMON_OWN):  # the StatsD listener's own bookkeeping
                continue
            score = 0.9 if any(w in name.lower() for w in _ERRORISH) else 0.6
            t0, last = float(first[k]), float(values[k, (head[k] - 1) % hot.points])
            out.append(
                Episode(int(k), t0, t0, score, score, 0.0, last, 1.0, int(count[k]), "new",
                        now - t0 < 900.0)
            )  # fmt: skip
        return out

    # -- since you last looked --------------------------------------------------------------
    def marks(self, trends: Sequence[Trend], viewer: str, record: bool = True) -> dict[str, str]:
        """``{trend id: "new" | "worse"}`` against the viewer's previous visit; with ``record``,
        this view becomes (or extends) the viewer's current visit."""
        now = self.clock()
        visits = self.feedback.visits(viewer, 2)
        ongoing = bool(visits) and now - visits[0].ts < SAME_VISIT
        prev = (
            (visits[1] if len(visits) > 1 else None) if ongoing else (visits[0] if visits else None)
        )
        if record:
            snapshot = {
                t.id: [t.severity.total, float(len(t.series)), round(t.deviation, 3)]
                for t in trends
                if t.mute is None
            }
            top = dict(list(snapshot.items())[:500])
            self.feedback.record_visit(viewer, now, top, visits[0].ts if ongoing else None)
        if prev is None:
            return {}
        out = {}
        for t in trends:
            if t.mute is not None:
                continue
            before = prev.snapshot.get(t.id)
            if before is None:
                out[t.id] = "new"
            elif _worse(t, before):
                out[t.id] = "worse"
        return out

    # -- deploys ----------------------------------------------------------------------------
    def event(self, event_id: int) -> Event:
        now = self.clock()
        for ev in self.store.events(now - 90 * 86400, now + 86400, limit=100_000):
            if ev.id == event_id:
                return ev
        raise NotFound(f"no event with id {event_id}")

    def _scope_slots(self, words: set[str]) -> np.ndarray:
        names = self.store.names
        for k in range(self._indexed, len(names)):
            for w in scope_words(names[k]):
                self._words.setdefault(w, []).append(k)
        self._indexed = len(names)
        if not words:
            return np.arange(len(names), dtype=np.int64)
        found: set[int] = set()
        for w in words:
            found.update(self._words.get(w, ()))
        return np.array(sorted(found), dtype=np.int64)

    def impact(self, event_id: int, limit: int = 100) -> Impact:
        """The series in the deploy's scope, ranked by how much they changed after it against
        before it, and against the same time a week earlier."""
        ev = self.event(event_id)
        now = self.clock()
        words = {t.split("=", 1)[1] for t in ev.tags if "=" in t and t.split("=", 1)[1]}
        span = min(max(now - ev.ts, 60.0), 1800.0)
        after = Window(ev.ts, ev.ts + span)
        before = Window(ev.ts - max(span, 900.0), ev.ts)
        with self._lock:
            slots = self._scope_slots(words)
        changes, ready = self._changes(slots, after, before, limit)
        changes = [self._with_week(c, after) for c in changes[:30]] + changes[30:]
        changes.sort(key=lambda c: (-c.score, c.name))
        mine = [t for t in self.trends() if t.deploy is not None and t.deploy.id == ev.id]
        return Impact(ev, tuple(sorted(words)), after, before, len(slots), ready, changes, mine)

    def _changes(
        self, slots: np.ndarray, after: Window, before: Window, limit: int
    ) -> tuple[list[Change], bool]:
        hot = self.store.hot
        ts, values = hot.ts, hot.values
        slots = slots[slots < ts.shape[0]]
        if before.start < self._hot_since(slots):  # older than memory: the minute rollups
            disk = self.store.window_stats(after, before)
            slots = slots[slots < len(disk)]
            stats = disk[slots]
        else:
            stats = window_stats(ts, values, slots, after, before)
        score, z = change_scores(stats)
        order = np.lexsort((slots, -score))[:limit]
        names = self.store.names
        out = []
        for i in order:
            if score[i] <= 0:
                break
            n_a, m_a, n_b, m_b, s_b = stats[i]
            note = "appeared" if n_b == 0 else "vanished" if n_a == 0 else ""
            spread = max(float(np.nan_to_num(s_b)), 0.01 * abs(float(np.nan_to_num(m_b)))) + 1e-9
            out.append(
                Change(names[slots[i]], float(m_b), float(m_a), float(z[i]), float(score[i]),
                       spread, note=note)
            )  # fmt: skip
        return out, bool(len(stats) and np.nansum(stats[:, 0]) > 0)

    def _hot_since(self, slots: np.ndarray) -> float:
        """The time from which most of these series are still in the hot window."""
        hot = self.store.hot
        slots = slots[slots < len(hot.count)]
        count = hot.count[slots]
        slots, count = slots[count > 0], count[count > 0]
        if not len(slots):
            return math.inf
        oldest = hot.ts[slots, (hot.head[slots] - count) % hot.points]
        return float(np.median(oldest))

    def _with_week(self, c: Change, after: Window) -> Change:
        if c.note:
            return c
        try:
            old = self.store.read(c.name, after.start - WEEK, after.until - WEEK)
        except NotFound:
            return c
        vals = old.values[np.isfinite(old.values)]
        if not len(vals):
            return c
        week = float(vals.mean())
        z_week = (c.after - week) / c.spread
        score = math.sqrt(c.score * abs(z_week))  # the same change a week ago scores low
        return dataclasses.replace(c, score=score, week=week, z_week=z_week)

    def deploys(self) -> list[Event]:
        now = self.clock()
        return [e for e in self.store.events(now - WEEK, now + 60) if is_deploy(e)]

    # -- explore ----------------------------------------------------------------------------
    def moved(self, window: Window, limit: int = 100) -> list[Change]:
        """Every series ranked by how much it changed in ``window`` against the window of the
        same length just before it."""
        span = max(window.until - window.start, 1.0)
        before = Window(window.start - span, window.start)
        slots = np.arange(min(len(self.store.names), self.store.hot.ts.shape[0]), dtype=np.int64)
        return self._changes(slots, window, before, limit)[0]


def _worse(t: Trend, before: list[float]) -> bool:
    """Higher severity, more series, or further from normal than at the last visit."""
    total, n_series = before[0], before[1]
    deviation = before[2] if len(before) > 2 else math.inf
    return (
        t.severity.total > total * 1.25 + 1.0
        or len(t.series) > n_series
        or t.deviation > deviation * 1.5 + 1.0
    )
