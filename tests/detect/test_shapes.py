"""Real failure shapes: each labelled synthetic anomaly is caught, its normal twin is not."""

from __future__ import annotations

import numpy as np
import pytest

from opsradar.detect import Engine

from .synth import CASES, sparse_counts

LEARN = 400  # points before which nothing is judged (warm-up and first estimates)
CATCH_WITHIN = {"drift": 1000, "daily": 60, "weekly": 60, "flatline": 30}
KINDS = {
    "spike": {"spike"},
    "dip": {"dip"},
    "level_shift": {"level_shift", "spike"},
    "variance": {"variance", "spike", "dip", "level_shift"},
    "drift": {"drift", "level_shift"},
    "daily": {"level_shift", "dip", "drift"},
    "weekly": {"dip", "level_shift"},
    "flatline": {"flatline"},
    "counter_reset": {"dip"},
    "irregular": {"spike"},
}
# seasonal cases: a seasonal model is trusted once it has seen two full periods
JUDGE_FROM = {"daily": 3 * 288, "weekly": 2 * 7 * 144 + 144}


def _run(ts: np.ndarray, x: np.ndarray) -> tuple[Engine, np.ndarray]:
    eng = Engine()
    return eng, eng.score(np.zeros(len(x), np.int64), ts, x)


CAUGHT = [
    pytest.param(
        n,
        marks=pytest.mark.xfail(
            reason="known gap: a 10-sd drift over 1000 points peaks at score ~0.3; the drift "
            "channel's own tail learns the drift (see docs/detection.md)",
            strict=True,
        ),
    )
    if n == "drift"
    else n
    for n in sorted(CASES)
]


@pytest.mark.parametrize("name", CAUGHT)
def test_anomaly_is_caught_early_with_the_right_kind(name: str) -> None:
    ts, x, onset = CASES[name](0, True)
    assert onset is not None
    eng, scores = _run(ts, x)
    window = slice(onset, onset + CATCH_WITHIN.get(name, 10))
    assert scores[window].max() >= 0.5, f"{name}: not caught"
    eps = [e for e in eng.episodes(ts[-1], keep=1e12) if e.start >= ts[onset]]
    first = min(eps, key=lambda e: e.start)
    assert first.kind in KINDS[name]
    assert first.scale > 0 and np.isfinite(first.expected)


@pytest.mark.parametrize("name", sorted(CASES))
def test_normal_twin_is_not_flagged(name: str) -> None:
    ts, x, _ = CASES[name](0, False)
    _, scores = _run(ts, x)
    start = max(LEARN, JUDGE_FROM.get(name, 0))
    assert (scores[start:] >= 0.5).sum() == 0, np.flatnonzero(scores[start:] >= 0.5) + start


def test_monday_morning_peak_is_not_an_anomaly() -> None:
    """Weeks 3-5 of a business-hours series: Monday ramps are expected, the outage is not."""
    ts, x, onset = CASES["weekly"](0, True)
    _, scores = _run(ts, x)
    day = ((ts // 86400) + 3) % 7
    hour = (ts % 86400) / 3600
    monday_morning = (day == 0) & (hour >= 7) & (hour < 10)
    monday_morning[: JUDGE_FROM["weekly"]] = False
    assert monday_morning.sum() > 30
    assert scores[monday_morning].max() < 0.5
    assert scores[onset : onset + 60].max() >= 0.5


def test_sparse_counts_long_zero_runs_are_habit() -> None:
    ts, x, _ = sparse_counts(0)
    _, scores = _run(ts, x)
    assert (scores[LEARN:] >= 0.5).mean() < 0.002


def test_stopped_series_is_reported_with_kind_stopped() -> None:
    ts, x, _ = CASES["spike"](0, False)
    eng, _ = _run(ts, x)
    assert eng.stale(ts[-1] + 300.0).tolist() == []
    stopped = [e for e in eng.episodes(ts[-1] + 10 * 300.0) if e.kind == "stopped"]
    assert [(e.slot, e.open, e.start) for e in stopped] == [(0, True, ts[-1])]


def test_a_gap_alone_is_not_an_anomaly() -> None:
    ts, x, _ = CASES["irregular"](1, False)
    _, scores = _run(ts, x)
    after_gaps = [401, 901]
    assert scores[after_gaps].max() < 0.5


def test_runs_of_equal_low_counts_are_habit() -> None:
    """Low counts (a quiet night of a Poisson series) repeat values often: runs of equal
    counts are scored against the series' own repeat rate, not as a stuck gauge."""
    flat = 0
    n_judged = 0
    for seed in range(6):
        rng = np.random.default_rng(seed)
        ts = 1.7e9 + np.arange(8000) * 300.0
        lam = 0.5 + 10.0 * np.clip(np.sin(2 * np.pi * ts / 86400.0), 0.0, None) ** 2
        x = rng.poisson(lam).astype(float)
        eng, _ = _run(ts, x)
        eps = eng.episodes(ts[-1], keep=1e12)
        flat += sum(e.kind == "flatline" and e.start >= ts[LEARN] for e in eps)
        n_judged += len(x) - LEARN
    assert flat / n_judged < 1 / 5000
