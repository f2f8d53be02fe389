"""Compiled bookkeeping of the engine: anomaly episodes and reporting intervals per slot."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

# fields of the engine's per-slot array
OPEN = 0
START = 1
LAST = 2
PEAK = 3
LAST_SCORE = 4
EXPECTED = 5
OBSERVED = 6
SCALE = 7
NPTS = 8
KIND = 9
QUIET = 10  # points below threshold since the last high one
T_LAST = 11  # timestamp of the last point
T_LOGDT = 12  # EW mean of log(interval)
T_N = 13  # points seen
T_LASTX = 14  # last finite value
NE = 15

# a closed episode row: slot + the 9 episode fields START..KIND
CLOSED_WIDTH = 10


@nb.njit(cache=True, inline="always")
def _close(E: np.ndarray, k: int, out: np.ndarray, m: int) -> int:
    out[m, 0] = k
    for j in range(9):
        out[m, 1 + j] = E[k, START + j]
    E[k, OPEN] = 0.0
    return m + 1


@nb.njit(cache=True, nogil=True)
def track(
    E: np.ndarray,
    slots: np.ndarray,
    ts: np.ndarray,
    xs: np.ndarray,
    raw: np.ndarray,
    expected: np.ndarray,
    scale: np.ndarray,
    kind: np.ndarray,
    threshold: float,
    grace: int,
    closed: np.ndarray,
) -> int:
    """Update episodes and intervals; write closed episodes to ``closed``; return how many."""
    m = 0
    for i in range(slots.shape[0]):
        k = slots[i]
        t = ts[i]
        if math.isfinite(t):
            if E[k, T_N] > 0 and t > E[k, T_LAST]:
                ldt = math.log(t - E[k, T_LAST])
                if E[k, T_N] == 1:
                    E[k, T_LOGDT] = ldt
                else:
                    E[k, T_LOGDT] += max(0.05, 1.0 / E[k, T_N]) * (ldt - E[k, T_LOGDT])
            if E[k, T_N] == 0 or t > E[k, T_LAST]:
                E[k, T_LAST] = t
            E[k, T_N] += 1.0
        if math.isfinite(xs[i]):
            E[k, T_LASTX] = xs[i]
        s = raw[i]
        if s >= threshold:
            if E[k, OPEN] == 0.0:
                E[k, OPEN] = 1.0
                E[k, START] = t
                E[k, PEAK] = -1.0
                E[k, NPTS] = 0.0
            E[k, LAST] = t
            E[k, LAST_SCORE] = s
            E[k, NPTS] += 1.0
            E[k, QUIET] = 0.0
            if s > E[k, PEAK]:
                E[k, PEAK] = s
                E[k, EXPECTED] = expected[i]
                E[k, OBSERVED] = xs[i]
                E[k, SCALE] = scale[i]
                E[k, KIND] = kind[i]
        elif E[k, OPEN] == 1.0:
            E[k, LAST_SCORE] = s
            E[k, QUIET] += 1.0
            if E[k, QUIET] > grace:
                m = _close(E, k, closed, m)
    return m
