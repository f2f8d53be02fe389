"""The likelihood stages' empirical tails: never harsher than the Gaussian-shaped score,
wider for a series whose short-term surprise is often high."""

from __future__ import annotations

import math

import numpy as np

from opsradar.detect import _kernel as K


def _state() -> np.ndarray:
    S = np.zeros((1, K.NF))
    K.init_rows(S, np.zeros((1, K.N_SEAS)), 0, 1)
    return S


def test_fresh_tail_is_the_gaussian_shaped_score() -> None:
    S = _state()
    for z in (0.5, 2.0, 3.0, 4.0, 6.0):
        expected = 0.5 * z * z * math.log10(math.e)
        assert math.isclose(K._ztail(S, 0, K.LQ, z, 0.0), expected, rel_tol=1e-3)


def test_tail_only_widens() -> None:
    S = _state()
    rng = np.random.default_rng(0)
    for z in rng.normal(0.0, 0.5, 20000):  # a calm series: quantiles stay at their floor
        K._ztail(S, 0, K.LQ, float(z), 0.003)
    assert np.allclose(S[0, K.LQ : K.LQ + 3], K.ZQ0)
    calm = K._ztail(S, 0, K.LQ, 5.0, 0.0)
    for z in np.abs(rng.standard_t(2, 20000)) * 2.0:  # often high: a heavier tail
        K._ztail(S, 0, K.LQ, float(z), 0.003)
    q = S[0, K.LQ : K.LQ + 3]
    assert np.all(q >= K.ZQ0) and np.all(np.diff(q) > 0) and q[2] > K.ZQ0[2] + 0.5
    assert K._ztail(S, 0, K.LQ, 5.0, 0.0) < calm - 1.0
