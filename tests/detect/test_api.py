import io

import numpy as np
import pytest

import opsradar.detect as detect
from opsradar.core import ConfigError
from opsradar.detect import (
    DETECTORS,
    Engine,
    Episode,
    Policy,
    load_checkpoint,
    make_detector,
    save_checkpoint,
)


def test_all_is_the_public_surface() -> None:
    assert sorted(detect.__all__) == sorted(
        n for n in dir(detect) if not n.startswith("_") and n in detect.__all__
    )
    for name in detect.__all__:
        assert hasattr(detect, name)


def test_unknown_detector_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown detector 'x'; known: opsradar"):
        make_detector("x")
    assert "opsradar" in DETECTORS


def test_policy_decides_on_threshold() -> None:
    assert Policy(0.5).decide(np.array([0.1, 0.5, 0.9])).tolist() == [False, True, True]


def test_score_many_slots_one_call_grows_state() -> None:
    eng = Engine()
    n = 1000
    for tick in range(5):
        s = eng.score(np.arange(n), np.full(n, 10.0 * tick), np.random.default_rng(tick).random(n))
        assert s.shape == (n,)
        assert ((s >= 0) & (s <= 1)).all()
    assert eng.n_slots == n
    eng.score(np.array([5000]), np.array([60.0]), np.array([1.0]))
    assert eng.n_slots == 5001


def test_nan_and_inf_score_zero_and_do_not_corrupt_state() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(10, 1, 300)
    bad = x.copy()
    bad[[100, 150, 200]] = [np.nan, np.inf, -np.inf]
    a, b = Engine(), Engine()
    sa = a.score(np.zeros(300, np.int64), np.arange(300.0), x)
    keep = np.isfinite(bad)
    sb = b.score(np.zeros(300, np.int64), np.arange(300.0), bad)
    assert (sb[~keep] == 0).all()
    assert np.isfinite(sb).all()
    # remaining points score like a series where the bad points were never sent
    c = Engine()
    sc = c.score(np.zeros(keep.sum(), np.int64), np.arange(300.0)[keep], x[keep])
    np.testing.assert_allclose(sb[keep], sc)
    assert np.isfinite(sa).all()


def test_episode_opens_on_a_spike_and_closes_after_grace() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(100, 1, 600)
    x[400] = 150
    eng = Engine()
    ts = 60.0 * np.arange(600)
    eng.score(np.zeros(402, np.int64), ts[:402], x[:402])
    open_eps = [e for e in eng.episodes(now=ts[401]) if e.open]
    assert len(open_eps) == 1
    ep = open_eps[0]
    assert isinstance(ep, Episode)
    assert ep.kind == "spike" and ep.start == ts[400] and ep.observed == 150
    assert abs(ep.expected - 100) < 2 and 0 < ep.scale < 3
    eng.score(np.zeros(198, np.int64), ts[402:], x[402:])
    eps = eng.episodes(now=ts[-1], keep=ts[-1] - ts[400])
    assert [e.open for e in eps] == [False]
    assert eng.episodes(now=ts[-1] + 1.0, keep=ts[-1] - ts[400]) == []


def test_stale_series_are_reported_as_stopped() -> None:
    eng = Engine(stale_after=5.0)
    ts = 10.0 * np.arange(20)
    eng.score(np.zeros(20, np.int64), ts, np.ones(20))
    eng.score(np.ones(2, np.int64), ts[:2], np.ones(2))  # too few points to judge
    assert eng.stale(now=ts[-1] + 30).tolist() == []
    assert eng.stale(now=ts[-1] + 60).tolist() == [0]
    stopped = [e for e in eng.episodes(now=ts[-1] + 60) if e.kind == "stopped"]
    assert [e.slot for e in stopped] == [0]


def test_checkpoint_mid_stream_continues_identically(tmp_path: object) -> None:
    rng = np.random.default_rng(3)
    n_slots, n_ticks = 50, 400
    x = rng.normal(0, 1, (n_ticks, n_slots)).cumsum(axis=0)
    x[300, 7] += 40
    slots = np.arange(n_slots)
    ref = Engine()
    ref_scores = [ref.score(slots, np.full(n_slots, 10.0 * t), x[t]) for t in range(n_ticks)]
    eng = Engine()
    for t in range(200):
        eng.score(slots, np.full(n_slots, 10.0 * t), x[t])
    path = f"{tmp_path}/state.npz"
    save_checkpoint(eng, path)
    restored = load_checkpoint(path, Engine())
    for t in range(200, n_ticks):
        got = restored.score(slots, np.full(n_slots, 10.0 * t), x[t])
        np.testing.assert_array_equal(got, ref_scores[t])
    assert restored.episodes(now=4000.0) == ref.episodes(now=4000.0)


def test_detect_csv_round_trip() -> None:
    text = "timestamp,value\n" + "".join(f"{1000 + 60 * i},{i % 7}\n" for i in range(100))
    out = io.StringIO()
    assert detect.detect_csv(io.StringIO(text), out) == 100
    lines = out.getvalue().splitlines()
    assert lines[0] == "timestamp,value,anomaly_score,anomaly"
    assert lines[1].startswith("1000,0,")
    assert len(lines) == 101


def test_growing_past_the_reservation_threshold_scores_the_same() -> None:
    """Slots arriving a few at a time (small arrays, then reserved ones) or all at once, and
    growing again after a restore, score alike: the rows in use move intact."""
    rng = np.random.default_rng(5)
    n_slots, n_ticks = 3000, 30
    x = rng.normal(0, 1, (n_ticks, n_slots)).cumsum(axis=0)
    x[25, 50] += 40
    ts = 10.0 * np.arange(n_ticks)
    slots = np.arange(n_slots)
    ref = Engine()
    want = np.stack([ref.score(slots, np.full(n_slots, ts[t]), x[t]) for t in range(n_ticks)])
    eng, got = Engine(), np.empty_like(want)
    for t in range(n_ticks):  # slot k is first seen at tick k // 100
        seen = slots[: min(n_slots, 100 * (t + 1))]
        got[t, seen] = eng.score(seen, np.full(len(seen), ts[t]), x[t, seen])
        if t == 9:  # restored into arrays that grow on
            state = eng.state_dict()
            eng = Engine()
            eng.load_state_dict(state)
    for k in range(0, n_slots, 100):  # each slot scored from its first tick on
        first = k // 100
        alone = Engine().score(np.zeros(n_ticks - first, np.int64), ts[first:], x[first:, k])
        np.testing.assert_array_equal(got[first:, k], alone, err_msg=str(k))
    assert got[25, 50] >= 0.5
    np.testing.assert_array_equal(got[:, :100], want[:, :100])
    assert eng.state_dict()["detector.scalars"].shape == ref.state_dict()["detector.scalars"].shape
