"""Slot arrays: reserved as address space, backed only where written, grown without a copy."""

from __future__ import annotations

import resource

import numpy as np

from opsradar.core import grown_rows, reserve_zeros
from opsradar.core._memory import RESERVE_ROWS, SMALL_ROWS


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def test_a_reservation_costs_memory_only_where_written() -> None:
    before = _rss()
    a = reserve_zeros((RESERVE_ROWS, 512), np.float64)  # 4 GiB of address space
    assert a is not None and a.flags.writeable and a.flags.c_contiguous
    assert _rss() - before < 16 << 20
    a[:100] = 1.0
    assert a[:100].sum() == 100 * 512 and not a[100:200].any()
    assert _rss() - before < 32 << 20


def test_small_arrays_double_and_large_ones_reserve() -> None:
    a = grown_rows(np.zeros((0, 3), np.uint64), 5, 0)
    assert a.shape == (16, 3) and a.dtype == np.uint64
    a[:5] = 7
    b = grown_rows(a, SMALL_ROWS + 1, 5, huge=True)
    assert b.shape == (RESERVE_ROWS, 3)
    assert (b[:5] == 7).all() and not b[5:SMALL_ROWS + 1].any()  # fmt: skip
    assert grown_rows(b, RESERVE_ROWS, 5) is b  # room enough: the same array, no copy
    c = grown_rows(b, RESERVE_ROWS + 1, 5)  # past the reservation: twice as many rows
    assert c.shape == (2 * RESERVE_ROWS, 3) and (c[:5] == 7).all()
