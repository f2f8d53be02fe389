"""The Ranker over a real Store (DuckDB in a temp dir) and a real FeedbackLog, with a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from opsradar.core import Event, NotFound
from opsradar.detect import Episode
from opsradar.rank import Ranker, Window
from opsradar.store import FeedbackLog, FeedbackRule, Store

NOW = 1_800_000_000.0
STEP = 10.0


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path, hot_points=720)
    s.open()
    yield s
    s.close()


def _feed(store: Store, name: str, ts: np.ndarray, values: np.ndarray) -> None:
    slots = store.resolve([name] * len(ts))
    store.append(slots, ts, values, np.zeros(len(ts)))


def _ranker(store: Store, episodes: list[Episode], clock: Clock) -> Ranker:
    return Ranker(lambda now: list(episodes), store, FeedbackLog(), clock)


def test_a_series_that_appears_after_the_others_is_a_new_trend(store: Store) -> None:
    old = NOW - 7200 + np.arange(720) * STEP
    _feed(store, "hosts.web-001.cpu.user", old, np.full(720, 5.0))
    _feed(
        store, "stats.counters.web.errors_5xx.count", NOW - 300 + np.arange(30) * STEP, np.ones(30)
    )
    _feed(store, "stats.statsd.numStats", NOW - 300 + np.arange(30) * STEP, np.ones(30))
    trends = _ranker(store, [], Clock(NOW)).trends()  # the StatsD listener's own: not news
    assert [(t.kind, t.series) for t in trends] == [
        ("new", ("stats.counters.web.errors_5xx.count",))
    ]
    assert "first appeared 5 min ago" in trends[0].sentence


def test_nothing_is_new_on_a_fresh_server(store: Store) -> None:
    _feed(store, "a.b", NOW - 300 + np.arange(30) * STEP, np.ones(30))
    _feed(store, "a.c", NOW - 200 + np.arange(20) * STEP, np.ones(20))
    assert _ranker(store, [], Clock(NOW)).trends() == []


def _ep(slot: int, start: float, observed: float = 300.0) -> Episode:
    return Episode(
        slot, start, start + 200, 0.9, 0.9, 100.0, observed, 10.0, 20, "level_shift", True
    )


def test_since_you_last_looked_marks_new_and_worse_trends(store: Store) -> None:
    store.resolve(["app.a", "app.b"])
    episodes = [_ep(0, NOW - 300, 150.0)]
    clock = Clock(NOW)
    ranker = _ranker(store, episodes, clock)
    assert ranker.marks(ranker.trends(), "alice") == {}  # first visit: nothing to compare with
    clock.t += 30  # same visit: still nothing
    assert ranker.marks(ranker.trends(), "alice") == {}
    clock.t += 3600  # a later visit: a new trend, and the old one got worse
    episodes[:] = [_ep(0, NOW - 300, 900.0), _ep(1, NOW + 3000)]
    trends = ranker.trends()
    marks = ranker.marks(trends, "alice")
    assert sorted(marks.values()) == ["new", "worse"]
    assert ranker.marks(trends, "bob") == {}  # each viewer has their own last visit


def test_feedback_changes_the_ranking_at_once(store: Store) -> None:
    store.resolve(["app.a", "app.b"])
    episodes = [_ep(0, NOW - 300, 900.0), _ep(1, NOW - 300, 200.0)]
    ranker = _ranker(store, episodes, Clock(NOW))
    top = ranker.trends()[0]
    assert top.series == ("app.a",)
    rule = FeedbackRule(0, NOW, "alice", "not_interesting", "series", ("app.a",), None, top.id)
    ranker.feedback.add(rule)
    ranker.invalidate()
    assert ranker.trends()[0].series == ("app.b",)
    assert ranker.trend(top.id).id == top.id, "a trend's URL stays valid after it leaves"
    with pytest.raises(NotFound):
        ranker.trend("nope")


def test_rarity_is_remembered_across_restarts(store: Store, tmp_path: Path) -> None:
    store.resolve(["app.a"])
    log = FeedbackLog(tmp_path / "fb.duckdb")
    first = Ranker(lambda now: [_ep(0, NOW - 7200)], store, log, Clock(NOW - 7000))
    first.trends()
    log.close()
    log = FeedbackLog(tmp_path / "fb.duckdb")
    second = Ranker(lambda now: [_ep(0, NOW - 60)], store, log, Clock(NOW))
    assert second.trends()[0].prior == 1
    log.close()


def _fleet(store: Store, n: int, moving: dict[str, float], deploy_at: float) -> None:
    ts = deploy_at - 1800 + np.arange(240) * STEP
    rng = np.random.default_rng(0)
    for i in range(n):
        name = f"hosts.{'checkout' if i % 2 else 'web'}-{i:03d}.cpu.user"
        values = 50 + rng.normal(0, 1, len(ts))
        values[ts >= deploy_at] += moving.get(name, 0.0)
        _feed(store, name, ts, values)


def test_deploy_impact_ranks_the_series_in_its_scope(store: Store) -> None:
    deploy_at = NOW - 600
    moving = {"hosts.checkout-003.cpu.user": 20.0, "hosts.web-002.cpu.user": 30.0}
    _fleet(store, 10, moving, deploy_at)
    event = store.add_event(Event(deploy_at, "deploy checkout#1", ("deploy", "service=checkout")))
    assert event.id is not None
    impact = _ranker(store, [], Clock(NOW)).impact(event.id)
    assert impact.ready and impact.in_scope == 5, "only checkout hosts are in scope"
    assert impact.changes[0].name == "hosts.checkout-003.cpu.user"
    assert impact.changes[0].z > 10 and impact.changes[0].after > impact.changes[0].before
    with pytest.raises(NotFound):
        _ranker(store, [], Clock(NOW)).impact(event.id + 100)


def test_what_moved_ranks_every_series_by_its_change_in_the_window(store: Store) -> None:
    deploy_at = NOW - 600
    _fleet(
        store, 10, {"hosts.web-002.cpu.user": -30.0, "hosts.checkout-005.cpu.user": 8.0}, deploy_at
    )
    moved = _ranker(store, [], Clock(NOW)).moved(Window(deploy_at, deploy_at + 300), limit=3)
    assert [c.name for c in moved[:2]] == ["hosts.web-002.cpu.user", "hosts.checkout-005.cpu.user"]
    assert moved[0].z < -10 and len(moved) == 3


def test_what_moved_in_a_window_older_than_memory_reads_the_minute_rollups(
    tmp_path: Path,
) -> None:
    small = Store(tmp_path / "small", hot_points=16)  # memory holds the last 160 s only
    small.open()
    try:
        ts = NOW - 7200 + np.arange(720) * STEP
        rng = np.random.default_rng(3)
        for k in range(5):
            values = 50 + rng.normal(0, 1, 720)
            if k == 3:
                values[ts >= NOW - 3600] += 20  # a shift an hour ago
            _feed(small, f"app.svc{k}.latency", ts, values)
        small.flush()
        assert small.hot.ts[3][np.isfinite(small.hot.ts[3])].min() > NOW - 3600
        moved = _ranker(small, [], Clock(NOW)).moved(Window(NOW - 3600, NOW - 3000), limit=5)
        assert moved[0].name == "app.svc3.latency"
        assert moved[0].z > 10 and abs(moved[0].after - moved[0].before - 20) < 1
        assert all(c.score < 5 for c in moved[1:])
    finally:
        small.close()
