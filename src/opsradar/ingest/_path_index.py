"""Known Graphite paths found in compiled code: no bytes object and no dict lookup per line.

The bulk scan hashes each line's path as it reads it (``Scanned.paths``). ``PathIndex``
looks the hash up in an open-addressing table of path ids and compares the bytes with the
path stored for that id, so two paths with the same hash never mix. A path it does not
find — new, or past ``MAX_PROBE`` slots of the table (a flood of names with colliding hashes)
— is resolved by the caller in Python, the way every path was before.

Memory stays bounded: past ``limit`` paths the index is cleared and refills as paths recur.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from opsradar.ingest._names import CACHE_LIMIT

#: Table slots tried before a lookup gives up (the caller then takes the Python path).
MAX_PROBE = 32


@nb.njit(cache=True)
def _probe(
    buf: np.ndarray,
    start: int,
    end: int,
    h: int,
    table: np.ndarray,
    meta: np.ndarray,
    arena: np.ndarray,
) -> tuple[int, int]:
    """``(id, slot)``: the id of ``buf[start:end]`` (or -1) and the empty slot that ended the
    search (or -1 when ``MAX_PROBE`` slots were tried)."""
    mask = table.shape[0] - 1
    j = h & mask
    n = end - start
    for _ in range(MAX_PROBE):
        k = table[j]
        if k < 0:
            return -1, j
        if meta[k, 0] == h and meta[k, 2] == n:
            at = meta[k, 1]
            same = True
            for b in range(n):
                if arena[at + b] != buf[start + b]:
                    same = False
                    break
            if same:
                return k, j
        j = (j + 1) & mask
    return -1, -1


@nb.njit(cache=True)
def _find(
    buf: np.ndarray,
    paths: np.ndarray,
    table: np.ndarray,
    meta: np.ndarray,
    arena: np.ndarray,
    ids: np.ndarray,
) -> int:
    """Ids of every line's path into ``ids`` (-1 when not found); returns how many are -1."""
    missing = 0
    for i in range(paths.shape[0]):
        k, _ = _probe(buf, paths[i, 0], paths[i, 1], paths[i, 2], table, meta, arena)
        ids[i] = k
        missing += k < 0
    return missing


@nb.njit(cache=True)
def _place(table: np.ndarray, meta: np.ndarray, k: int) -> bool:
    """Put id ``k`` in the table by its hash; False when no slot is free within reach."""
    mask = table.shape[0] - 1
    j = meta[k, 0] & mask
    for _ in range(MAX_PROBE):
        if table[j] < 0:
            table[j] = k
            return True
        j = (j + 1) & mask
    return False


@nb.njit(cache=True)
def _add(
    buf: np.ndarray,
    rows: np.ndarray,
    table: np.ndarray,
    meta: np.ndarray,
    arena: np.ndarray,
    used: int,
    first: int,
) -> tuple[int, int]:
    """Index the paths ``rows`` (start, end, hash in ``buf``) as ids ``first, first + 1, ...``;
    returns how many were placed (all unless a probe ran too long) and the arena used."""
    for r in range(rows.shape[0]):
        start, end = rows[r, 0], rows[r, 1]
        k = first + r
        meta[k, 0] = rows[r, 2]
        meta[k, 1] = used
        meta[k, 2] = end - start
        if not _place(table, meta, k):
            return r, used
        arena[used : used + end - start] = buf[start:end]
        used += end - start
    return rows.shape[0], used


@nb.njit(cache=True)
def _rehash(table: np.ndarray, meta: np.ndarray, n: int) -> None:
    table[:] = -1
    for k in range(n):
        _place(table, meta, k)  # one that fit in a fuller table fits here all but surely


class PathIndex:
    """Raw path bytes → canonical series name, by id. One per parser (not thread-safe)."""

    def __init__(self, limit: int = CACHE_LIMIT) -> None:
        self.limit = limit
        self.clear()

    def clear(self) -> None:
        #: Canonical name of each id.
        self.names: list[str] = []
        self._table = np.full(1024, -1, np.int64)
        self._meta = np.empty((256, 3), np.int64)  # per id: hash, offset in arena, length
        self._arena = np.empty(1 << 16, np.uint8)  # the raw bytes of every path
        self._used = 0

    def __len__(self) -> int:
        return len(self.names)

    def find(self, buf: np.ndarray, paths: np.ndarray) -> tuple[np.ndarray, int]:
        """``(ids, missing)``: the id of each line's path in ``buf`` (``Scanned.paths``), -1
        where not known, and how many are -1."""
        ids = np.empty(len(paths), np.int64)
        missing = _find(buf, paths, self._table, self._meta, self._arena, ids)
        return ids, missing

    def add(self, buf: np.ndarray, rows: np.ndarray, names: list[str]) -> bool:
        """Index the paths at ``rows`` of ``buf`` (``Scanned.paths`` rows, distinct and not
        yet known) as ``names``. False when not all of them could be (the index was full and
        is cleared, or hashes collide too often): those stay on the Python path."""
        n, m = len(self.names), len(rows)
        if n + m > self.limit:
            self.clear()
            return False
        self._reserve(n + m, self._used + int((rows[:, 1] - rows[:, 0]).sum()))
        placed, self._used = _add(
            buf, rows, self._table, self._meta, self._arena, self._used, n
        )  # fmt: skip
        self.names.extend(names[:placed])
        return placed == m

    def _reserve(self, ids: int, nbytes: int) -> None:
        if len(self._meta) < ids:
            self._meta = _grown(self._meta, ids)
        if len(self._arena) < nbytes:
            self._arena = _grown(self._arena, nbytes)
        if len(self._table) < 2 * ids:  # at most half full: probes stay short
            size = len(self._table)
            while size < 2 * ids:
                size *= 2
            self._table = np.empty(size, np.int64)
            _rehash(self._table, self._meta, len(self.names))


def _grown(a: np.ndarray, need: int) -> np.ndarray:
    size = len(a)
    while size < need:
        size *= 2
    out = np.empty((size, *a.shape[1:]), a.dtype)
    out[: len(a)] = a
    return out
