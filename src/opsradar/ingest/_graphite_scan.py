"""One compiled pass over a buffer of Graphite plaintext: check and convert, or decline.

``scan`` accepts a buffer only when every line is exactly ``path SP value SP timestamp LF``
(single spaces, no other whitespace, no blank line) and every number is a plain decimal
(``[+-]digits[.digits][e[+-]digits]``) small enough to convert exactly: at most 2**53 in
its digits and a power of ten of at most 22 either way (Clinger's fast path: one exact
integer times or over one exact power of ten, so one correctly rounded operation — the same
double Python's ``float()`` gives). Values must be finite and timestamps ``-1`` ("now") or in
``(0, 1e11)``. Anything else returns -1 and the caller takes a slower, general path.

While it reads a path it notes where the path starts and ends and hashes its bytes (FNV-1a,
64 bits), so ``PathIndex`` can find known paths without a bytes object or a dict per line.
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

_POW10 = np.array([10.0**k for k in range(23)])
_EXACT = 2**53
_SP, _LF = 32, 10
_FNV_BASIS = np.uint64(14695981039346656037)
_FNV_PRIME = np.uint64(1099511628211)


@nb.njit(cache=True, inline="always")
def _fnv(h: np.uint64, byte: np.uint8) -> np.uint64:
    """One byte into an FNV-1a hash: every path and key index hashes with this step, so a
    hash computed while scanning matches the one stored when the path was added."""
    return (h ^ np.uint64(byte)) * _FNV_PRIME


@nb.njit(cache=True, inline="always")
def _number(buf: np.ndarray, i: int, end: int, pow10: np.ndarray) -> tuple[float, bool]:
    """The decimal in ``buf[i:end]`` and whether it converted exactly (else decline)."""
    neg = False
    c = buf[i]
    if c == 43 or c == 45:  # + -
        neg = c == 45
        i += 1
    mant = 0
    digits = 0  # mantissa digits seen (incl. leading zeros)
    scale = 0  # digits after the point
    seen_point = False
    while i < end:
        c = buf[i]
        if 48 <= c <= 57:
            mant = mant * 10 + (c - 48)
            if mant > _EXACT:
                return 0.0, False
            digits += 1
            if seen_point:
                scale += 1
        elif c == 46 and not seen_point:  # .
            seen_point = True
        else:
            break
        i += 1
    if digits == 0:
        return 0.0, False
    exp = 0
    if i < end:
        if buf[i] != 101 and buf[i] != 69:  # e E
            return 0.0, False
        i += 1
        eneg = False
        if i < end and (buf[i] == 43 or buf[i] == 45):
            eneg = buf[i] == 45
            i += 1
        if i == end or end - i > 3:
            return 0.0, False
        while i < end:
            c = buf[i]
            if not 48 <= c <= 57:
                return 0.0, False
            exp = exp * 10 + (c - 48)
            i += 1
        if eneg:
            exp = -exp
    k = exp - scale
    if k > 22 or k < -22:
        return 0.0, False
    x = float(mant)
    x = x * pow10[k] if k >= 0 else x / pow10[-k]
    return (-x if neg else x), True


@nb.njit(cache=True, inline="always")
def _field(buf: np.ndarray, i: int, stop: int, pow10: np.ndarray) -> tuple[float, int, bool]:
    """The number in the run of non-space bytes at ``i``, which byte ``stop`` must end.

    Returns ``(number, index of the stop byte, ok)``.
    """
    n = buf.shape[0]
    start = i
    while i < n and buf[i] > 32:
        i += 1
    if i == start or i >= n or buf[i] != stop:
        return 0.0, i, False
    x, ok = _number(buf, start, i, pow10)
    return x, i, ok


@nb.njit(cache=True)
def _scan(
    buf: np.ndarray,
    now: float,
    pow10: np.ndarray,
    values: np.ndarray,
    ts: np.ndarray,
    paths: np.ndarray,
) -> int:
    n = buf.shape[0]
    line = 0
    i = 0
    while i < n:
        start = i  # the path: anything but whitespace, at least one byte
        h = _FNV_BASIS
        while i < n and buf[i] > 32:
            h = _fnv(h, buf[i])
            i += 1
        if i == start or i >= n or buf[i] != _SP:
            return -1
        paths[line, 0] = start
        paths[line, 1] = i
        paths[line, 2] = np.int64(h)
        value, i, ok = _field(buf, i + 1, _SP, pow10)
        if not ok:
            return -1
        t, i, ok = _field(buf, i + 1, _LF, pow10)
        if not ok:
            return -1
        if t == -1.0:
            t = now
        elif not (0.0 < t < 1e11):
            return -1
        i += 1
        values[line] = value
        ts[line] = t
        line += 1
    return line


class Scanned(NamedTuple):
    """What ``scan`` found, one row per line."""

    values: np.ndarray
    ts: np.ndarray
    #: int64 ``(start, end, hash)`` of each line's path: ``data[start:end]``, FNV-1a of it.
    paths: np.ndarray


def scan(data: bytes, now: float) -> Scanned | None:
    """Every line of ``data`` (which ends with a newline), or None to decline it."""
    most = len(data) // 6 + 1  # no line is shorter than "a 1 1\n" (the arrays stay untouched)
    values, ts, paths = np.empty(most), np.empty(most), np.empty((most, 3), np.int64)
    got = _scan(np.frombuffer(data, dtype=np.uint8), now, _POW10, values, ts, paths)
    if got < 0:
        return None
    return Scanned(values[:got], ts[:got], paths[:got])
