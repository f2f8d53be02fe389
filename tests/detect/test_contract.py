"""One contract, run over every registered detector (through the Engine, the one code path)."""

from __future__ import annotations

import numpy as np
import pytest

from opsradar.detect import DETECTORS, Engine, make_detector

NAMES = sorted(DETECTORS)


def _series(n: int = 1200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ts = 1_700_000_000 + 60.0 * np.arange(n)
    x = 50 + 10 * np.sin(np.arange(n) / 40) + rng.normal(0, 1, n)
    x[[300, 700]] += [25, -25]
    x[900:] += 8
    return ts, x


def _score(name: str, ts: np.ndarray, x: np.ndarray) -> np.ndarray:
    return Engine(make_detector(name)).score(np.zeros(len(x), np.int64), ts, x)


@pytest.mark.parametrize("name", NAMES)
def test_causal_future_points_never_change_past_scores(name: str) -> None:
    ts, x = _series()
    full = _score(name, ts, x)
    for cut in (250, 701, 1000):
        np.testing.assert_array_equal(_score(name, ts[:cut], x[:cut]), full[:cut])


@pytest.mark.parametrize("name", NAMES)
def test_batching_does_not_matter(name: str) -> None:
    ts, x = _series()
    eng = Engine(make_detector(name))
    parts = [
        eng.score(np.zeros(len(c), np.int64), ts[c], x[c])
        for c in np.array_split(np.arange(len(x)), 37)
    ]
    np.testing.assert_array_equal(np.concatenate(parts), _score(name, ts, x))


@pytest.mark.parametrize("name", NAMES)
def test_deterministic_and_slots_independent(name: str) -> None:
    ts, x = _series()
    a = _score(name, ts, x)
    np.testing.assert_array_equal(a, _score(name, ts, x))
    # the same series interleaved with another on slot 1 scores the same on slot 0
    ts2, x2 = _series(seed=1)
    slots = np.tile([0, 1], len(x))
    both = Engine(make_detector(name)).score(
        slots, np.column_stack([ts, ts2]).ravel(), np.column_stack([x, x2]).ravel()
    )
    np.testing.assert_array_equal(both[0::2], a)


@pytest.mark.parametrize("name", NAMES)
def test_warm_up_scores_zero_and_range(name: str) -> None:
    ts, x = _series()
    s = _score(name, ts, x)
    det = make_detector(name)
    assert (s[: det.warmup] == 0).all()
    assert ((s >= 0) & (s <= 1)).all()
    assert s[300] >= 0.5 and s[700] >= 0.5


@pytest.mark.parametrize("name", NAMES)
def test_nan_inf_and_gaps(name: str) -> None:
    ts, x = _series()
    bad = x.copy()
    bad[[100, 400, 401, 800]] = [np.nan, np.inf, -np.inf, np.nan]
    s = _score(name, ts, bad)
    assert np.isfinite(s).all()
    assert (s[[100, 400, 401, 800]] == 0).all()
    gap_ts = ts.copy()
    gap_ts[500:] += 6 * 3600  # six hours without data
    assert np.isfinite(_score(name, gap_ts, x)).all()
    # non-finite timestamps score 0 and are skipped, like bad values
    nt = ts.copy()
    nt[50] = np.nan
    assert _score(name, nt, x)[50] == 0


@pytest.mark.parametrize("name", NAMES)
def test_bounded_memory_per_series(name: str) -> None:
    eng = Engine(make_detector(name))
    ts, x = _series()
    eng.score(np.zeros(len(x), np.int64), ts, x)

    def sizes() -> dict[str, int]:
        return {k: v.nbytes for k, v in eng.state_dict().items() if k != "engine.closed"}

    before = sizes()
    eng.score(np.zeros(len(x), np.int64), ts + 1e6, x)
    assert sizes() == before
    assert eng.detector.state_bytes_per_slot() <= 4096
