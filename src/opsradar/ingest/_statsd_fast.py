"""Plain StatsD counters summed in compiled code: no bytes object and no dict per line.

``CounterIndex.run`` makes one compiled pass over a buffer. A line ``key:value|c`` or
``key:value|c|@rate`` whose key is known (``PathIndex``, keyed by the raw key bytes) and
whose numbers convert exactly (``_graphite_scan._number``: the same double as ``float()``)
adds ``value * (1 / rate)`` (as the Python parser computes it), in arrival order, to a
float64 sum per canonical name ("slot"). Every other line is left to the Python parser:

* a line that provably touches no counter (no ``:`` or ``#`` after the key, type ``ms``,
  ``g``, ``s``, ``h`` or ``d``) is copied to a side buffer the parser reads afterwards;
* a line of a known key that can only touch that key's counter (no ``:`` or ``#`` after the
  key: an odd value or rate, ``c\\r`` ...) *demotes* the key's slot for the rest of
  the window and is copied to the side buffer too;
* anything else (unknown key, tags, multi-value, junk) ends the pass: the parser reads the
  side buffer, then that line, and a new pass starts after it (``StatsdParser.feed``).

So each counter's additions happen in arrival order, exactly as the Python parser does
them: within a window a slot is either *fast* (every addition so far is in its sum, none in
``Window.counters``) or *demoted* (its sum was moved into ``Window.counters`` once, and
every later line of it goes through Python). Sums move into ``Window.counters`` at the end
of the window. Memory stays bounded: past ``limit`` raw keys everything is cleared.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from opsradar.ingest._graphite_scan import _FNV_BASIS, _POW10, _fnv, _number
from opsradar.ingest._names import CACHE_LIMIT
from opsradar.ingest._path_index import PathIndex, _probe

_LF, _HASH, _COLON, _BAR = 10, 35, 58, 124
#: Slot states within a window (``CounterIndex.state``).
UNTOUCHED, FAST, DEMOTED = 0, 1, 2
#: Slots one pass may demote while they hold a sum (past it the pass stops early).
MAX_FOLDS = 64
#: Passes over one buffer at most: after a line stops a pass, the next starts after it.
MAX_PASSES = 16


@nb.njit(cache=True, inline="always")
def _other_type(buf: np.ndarray, t: int, n: int) -> bool:
    """Whether ``buf[t:t+n]`` is ``ms``, ``g``, ``s``, ``h`` or ``d`` (never a counter)."""
    if n == 1:
        c = buf[t]
        return c == 103 or c == 115 or c == 104 or c == 100  # g s h d
    return n == 2 and buf[t] == 109 and buf[t + 1] == 115  # ms


@nb.njit(cache=True, inline="always")
def _scale(buf: np.ndarray, i: int, end: int, pow10: np.ndarray) -> tuple[float, bool]:
    """``1 / rate`` of the rest of a line after its type: nothing (1.0) or ``|@rate``, the
    rate a positive decimal ``_number`` converts exactly; else not ok."""
    if i == end:
        return 1.0, True
    if end - i < 3 or buf[i + 1] != 64:  # @
        return 0.0, False
    for j in range(i + 2, end):
        if buf[j] == _BAR:
            return 0.0, False
    rate, ok = _number(buf, i + 2, end, pow10)
    if not ok or not rate > 0.0:
        return 0.0, False
    return 1.0 / rate, True


@nb.njit(cache=True, nogil=True)
def _pass(
    buf: np.ndarray,
    pow10: np.ndarray,
    table: np.ndarray,
    meta: np.ndarray,
    arena: np.ndarray,
    id_slot: np.ndarray,
    sums: np.ndarray,
    state: np.ndarray,
    out: np.ndarray,
    folds: np.ndarray,
    i: int,
) -> tuple[int, int, int, int]:
    """``(summed, stop, used, nfold)`` of a pass from ``buf[i]`` (a line start): lines summed,
    where the pass stopped (``len(buf)`` if it did not), bytes of lines copied to ``out`` and
    slots demoted with a sum (``folds``)."""
    n = buf.shape[0]
    summed = used = nfold = 0
    while i < n:
        start = i
        h = _FNV_BASIS
        while i < n and buf[i] != _COLON and buf[i] != _LF:
            h = _fnv(h, buf[i])
            i += 1
        if i == start and i < n and buf[i] == _LF:  # blank line: skipped, not counted
            i += 1
            continue
        if i >= n or buf[i] != _COLON:
            return summed, start, used, nfold
        colon = i
        bar = -1
        odd = False
        j = colon + 1
        while j < n and buf[j] != _LF:
            c = buf[j]
            if c == _COLON or c == _HASH:  # noqa: SIM109 - compiled: two compares
                odd = True
            elif c == _BAR and bar < 0:
                bar = j
            j += 1
        end = j
        if odd or bar < 0:
            return summed, start, used, nfold
        t = bar + 1
        te = t
        while te < end and buf[te] != _BAR:
            te += 1
        counter = te - t == 1 and buf[t] == 99  # c
        if not counter and _other_type(buf, t, te - t):
            pass  # touches no counter: Python reads it after this pass
        else:
            hashed = np.int64(h)  # the table stores hashes as int64, as Scanned.paths does
            k, _ = _probe(buf, start, colon, hashed, table, meta, arena)  # type: ignore[arg-type]
            if k < 0:
                return summed, start, used, nfold
            slot = id_slot[k]
            if state[slot] != DEMOTED:
                scale, ok = _scale(buf, te, end, pow10)
                if counter and ok and bar > colon + 1:
                    x, ok = _number(buf, colon + 1, bar, pow10)
                    if ok:
                        sums[slot] += x * scale  # as Python: value * (1 / rate)
                        state[slot] = FAST
                        summed += 1
                        i = end + 1
                        continue
                if state[slot] == FAST:
                    if nfold == folds.shape[0]:
                        return summed, start, used, nfold
                    folds[nfold] = slot
                    nfold += 1
                state[slot] = DEMOTED
        out[used : used + end - start] = buf[start:end]
        used += end - start
        out[used] = _LF
        used += 1
        i = end + 1
    return summed, n, used, nfold


@nb.njit(cache=True)
def _hash_rows(buf: np.ndarray, rows: np.ndarray) -> None:
    """FNV-1a of ``buf[start:end]`` of each row into its third column (as ``_pass`` does)."""
    for r in range(rows.shape[0]):
        h = _FNV_BASIS
        for b in range(rows[r, 0], rows[r, 1]):
            h = _fnv(h, buf[b])
        rows[r, 2] = np.int64(h)


class CounterIndex:
    """Raw StatsD keys → per-name counter sums of the current window. One per parser."""

    def __init__(self, limit: int = CACHE_LIMIT) -> None:
        self.limit = limit
        #: Lines summed in compiled code so far (for tests and profiling).
        self.summed = 0
        self.clear()

    def clear(self) -> None:
        """Forget every key and slot (the caller has moved the sums out first)."""
        self.paths = PathIndex(self.limit)
        #: Every registered raw key → its slot (also keys the table could not place).
        self.key_slot: dict[bytes, int] = {}
        self.slot_of_name: dict[str, int] = {}
        #: Canonical name of each slot.
        self.names: list[str] = []
        self.sums = np.zeros(256)
        #: ``UNTOUCHED``, ``FAST`` or ``DEMOTED`` per slot; ``_state`` shares its memory.
        self.state = bytearray(256)
        self._state = np.frombuffer(self.state, np.uint8)
        self._id_slot = np.empty(256, np.int64)
        #: Keys met by ``touch`` and not yet in the compiled table.
        self.pending: list[bytes] = []
        #: Whether some slot may be ``FAST`` (``move`` has work to do).
        self.live = False
        self._folds = np.empty(MAX_FOLDS, np.int64)

    def __len__(self) -> int:
        return len(self.key_slot)

    def run(self, data: bytes, start: int, counters: dict[str, float]) -> tuple[int, int, bytes]:
        """One pass over ``data`` from ``start``: ``(summed, stop, rest)``. The caller parses
        ``rest`` (lines left to Python, newline-terminated), then the line at ``stop`` (unless
        ``stop == len(data)``) before anything after it."""
        buf = np.frombuffer(data, np.uint8)
        out = np.empty(len(data) - start + 1, np.uint8)
        paths = self.paths
        summed, stop, used, nfold = _pass(
            buf, _POW10, paths._table, paths._meta, paths._arena, self._id_slot,
            self.sums, self._state, out, self._folds, start,
        )  # fmt: skip
        for slot in self._folds[:nfold].tolist():  # demoted while holding a sum
            counters[self.names[slot]] = float(self.sums[slot])
        self.summed += summed
        self.live = self.live or summed > 0
        return summed, stop, out[:used].tobytes()

    def touch(self, key: bytes, name: str, slot: int | None, counters: dict[str, float]) -> None:
        """Python is about to add to the counter ``name`` (raw ``key``, slot ``slot`` if
        known): register the key, and demote its slot for the rest of the window."""
        if slot is None:
            slot = self.slot_of_name.get(name)
            if slot is None:
                slot = len(self.names)
                self.slot_of_name[name] = slot
                self.names.append(name)
                if slot == len(self.sums):
                    self._grow()
            self.key_slot[key] = slot
            self.pending.append(key)
        self.demote(slot, counters)

    def demote(self, slot: int, counters: dict[str, float]) -> None:
        if self.state[slot] == FAST:
            counters[self.names[slot]] = float(self.sums[slot])
        self.state[slot] = DEMOTED

    def register(self, counters: dict[str, float]) -> None:
        """Put the keys ``touch`` met into the compiled table (or clear all past ``limit``)."""
        keys, self.pending = self.pending, []
        paths = self.paths
        n = len(paths)
        if len(self.key_slot) > self.limit:  # counts keys the table could not place too
            self.move(counters, DEMOTED)
            self.clear()
            return
        data = b"".join(keys)
        lengths = np.array([len(k) for k in keys], np.int64)
        rows = np.empty((len(keys), 3), np.int64)
        rows[:, 1] = np.cumsum(lengths)
        rows[:, 0] = rows[:, 1] - lengths
        buf = np.frombuffer(data, np.uint8)
        _hash_rows(buf, rows)
        paths.add(buf, rows, [self.names[self.key_slot[k]] for k in keys])
        placed = len(paths)
        if len(self._id_slot) < placed:
            size = len(self._id_slot)
            while size < placed:
                size *= 2
            grown = np.empty(size, np.int64)
            grown[:n] = self._id_slot[:n]
            self._id_slot = grown
        self._id_slot[n:placed] = [self.key_slot[k] for k in keys[: placed - n]]

    def move(self, counters: dict[str, float], then: int) -> None:
        """Sums of fast slots into ``counters``; every slot's state becomes ``then``."""
        fast = np.flatnonzero(self._state[: len(self.names)] == FAST)
        names, sums = self.names, self.sums
        slots = fast.tolist()
        counters.update(zip([names[slot] for slot in slots], sums[fast].tolist(), strict=True))
        if then == UNTOUCHED:
            sums[:] = 0.0
        self._state[:] = then
        self.live = False

    def _grow(self) -> None:
        size = 2 * len(self.sums)
        sums = np.zeros(size)
        sums[: len(self.sums)] = self.sums
        state = bytearray(size)
        state[: len(self.state)] = self.state
        del self._state  # release the export so the old bytearray can go
        self.sums, self.state = sums, state
        self._state = np.frombuffer(state, np.uint8)
