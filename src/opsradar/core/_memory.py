"""Arrays indexed by series slot that grow without copying: room for many slots is reserved
up front as address space only, and the kernel backs a page with memory once it is written.

Anonymous memory mapped without a commit charge (``MAP_NORESERVE``) costs nothing until
touched, so reserving a million rows costs a 100-series process nothing, and growing to
100,000 series neither copies the rows in use nor touches memory twice. Where the kernel
refuses the reservation (``vm.overcommit_memory=2``), or past it, arrays grow by doubling.
"""

from __future__ import annotations

import mmap
import platform
import sys
from typing import Any

import numpy as np
import numpy.typing as npt

#: Rows reserved as address space once an array outgrows ``SMALL_ROWS``.
RESERVE_ROWS = 1 << 20
#: Below this many rows arrays are ordinary (and double as they grow): a detector of one
#: series does not map a million rows.
SMALL_ROWS = 1024
_NORESERVE = getattr(
    mmap,
    "MAP_NORESERVE",
    0x4000 if sys.platform == "linux" and platform.machine() in ("x86_64", "aarch64") else 0,
)


def reserve_zeros(
    shape: tuple[int, ...], dtype: Any, huge: bool = False
) -> npt.NDArray[Any] | None:
    """Zeros whose pages are backed by memory only once written; ``None`` where the kernel
    will not reserve them. ``huge``: transparent huge pages, 2 MiB backed at a time (for
    arrays whose rows are used from the first one on, where one fault per 2 MiB is cheaper
    than 512)."""
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    if not _NORESERVE or nbytes == 0:
        return None
    try:
        flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | _NORESERVE
        buf = mmap.mmap(-1, nbytes, flags=flags, prot=mmap.PROT_READ | mmap.PROT_WRITE)
    except (OSError, ValueError):  # strict overcommit
        return None
    if huge and hasattr(mmap, "MADV_HUGEPAGE"):
        buf.madvise(mmap.MADV_HUGEPAGE)
    return np.frombuffer(buf, dtype=dtype).reshape(shape)


def grown_rows(a: npt.NDArray[Any], need: int, used: int, huge: bool = False) -> npt.NDArray[Any]:
    """``a`` if it has ``need`` rows, else zeros with room for more holding its first ``used``
    rows: twice the rows, or, past ``SMALL_ROWS``, ``RESERVE_ROWS`` reserved.

    >>> a = grown_rows(np.zeros((0, 2)), 3, 0)
    >>> a[:3] = 1.0
    >>> b = grown_rows(a, 5000, 3)
    >>> b.shape[0] >= 5000, b[:4, 0].tolist(), grown_rows(b, 5001, 5000) is b
    (True, [1.0, 1.0, 1.0, 0.0], True)
    """
    cap = a.shape[0]
    if need <= cap:
        return a
    rows = max(need, 2 * cap, 16)
    out = None
    if rows > SMALL_ROWS:
        out = reserve_zeros((max(rows, RESERVE_ROWS), *a.shape[1:]), a.dtype, huge)
    if out is None:
        out = np.zeros((rows, *a.shape[1:]), a.dtype)
    k = min(used, cap)
    out[:k] = a[:k]
    return out
