"""The engine: one detector over every series slot, plus policy, episodes and staleness."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np

from opsradar.core import FloatArray, IntArray, grown_rows
from opsradar.detect import _episodes as EP
from opsradar.detect._detector import KIND_NAMES, Detector, make_detector

STALE_MIN_POINTS = 4  # a slot must have reported this often before it can be "stopped"


@dataclasses.dataclass(frozen=True)
class Policy:
    """Decides which scores are anomalies. Scoring and deciding are separate."""

    threshold: float = 0.5

    def decide(self, scores: FloatArray) -> np.ndarray:
        return np.asarray(scores) >= self.threshold


class Episode(NamedTuple):
    """One anomaly of one series: from the first high score to the last one."""

    slot: int
    start: float
    last: float
    peak_score: float
    last_score: float
    expected: float  # what the series was expected to do at the most deviant point
    observed: float  # the value at the most deviant point
    scale: float  # typical spread of the series; size = |observed - expected| / scale
    n_points: int
    kind: str  # one of KIND_NAMES, or stopped
    open: bool


def _episode(row: np.ndarray, slot: int, is_open: bool) -> Episode:
    start, last, peak, last_score, expected, observed, scale, npts, kind = row
    return Episode(
        slot=slot,
        start=float(start),
        last=float(last),
        peak_score=float(peak),
        last_score=float(last_score),
        expected=float(expected),
        observed=float(observed),
        scale=float(scale),
        n_points=int(npts),
        kind=KIND_NAMES[int(kind)] if int(kind) >= 0 else "spike",
        open=is_open,
    )


class Engine:
    """Scores points of many series in one compiled step and tracks their episodes.

    >>> import numpy as np
    >>> eng = Engine()
    >>> s = eng.score(np.zeros(3, np.int64), np.arange(3.0), np.ones(3))
    >>> s.shape, eng.n_slots
    ((3,), 1)
    """

    GRACE_POINTS = 5  # an episode stays open through this many low points in a row
    MAX_CLOSED = 100_000  # closed episodes kept until episodes() is asked (newest win)

    def __init__(
        self,
        detector: Detector | None = None,
        policy: Policy | None = None,
        stale_after: float = 5.0,
    ) -> None:
        self.detector: Detector = detector if detector is not None else make_detector()
        self.policy = policy if policy is not None else Policy()
        self.stale_after = stale_after
        self._E = np.zeros((0, EP.NE))
        self._closed = np.zeros((0, EP.CLOSED_WIDTH))

    @property
    def n_slots(self) -> int:
        return self.detector.n_slots

    def score(self, slots: IntArray, ts: FloatArray, values: FloatArray) -> FloatArray:
        """Score points in arrival order (several per slot allowed); return one score each."""
        slots = np.ascontiguousarray(slots, dtype=np.int64)
        ts = np.ascontiguousarray(ts, dtype=np.float64)
        values = np.ascontiguousarray(values, dtype=np.float64)
        if not len(slots) == len(ts) == len(values):
            raise ValueError("slots, ts and values must have the same length")
        if len(slots):  # rows of new slots are zeros: reserved, like the detector's
            self._E = grown_rows(self._E, int(slots.max()) + 1, self.n_slots, huge=True)
        out = self.detector.score(slots, ts, values)
        if len(slots):
            buf = np.empty((len(slots), EP.CLOSED_WIDTH))
            m = EP.track(
                self._E,
                slots,
                ts,
                values,
                out.raw,
                out.expected,
                out.scale,
                out.kind,
                self.policy.threshold,
                self.GRACE_POINTS,
                buf,
            )
            if m:
                self._closed = np.concatenate([self._closed, buf[:m]])[-self.MAX_CLOSED :]
        return out.score

    def episodes(self, now: float, keep: float = 3600.0) -> list[Episode]:
        """Episodes open now, closed within ``keep`` seconds, and series that stopped."""
        self._closed = self._closed[self._closed[:, 2] >= now - keep]
        eps = [_episode(row[1:], int(row[0]), False) for row in self._closed]
        E = self._E[: self.n_slots]
        for k in np.flatnonzero(E[:, EP.OPEN] == 1.0):
            eps.append(_episode(E[k, EP.START : EP.KIND + 1], int(k), True))
        for k in self.stale(now):
            last_t, last_x = float(E[k, EP.T_LAST]), float(E[k, EP.T_LASTX])
            eps.append(
                Episode(
                    int(k), last_t, float(now), 1.0, 1.0, last_x, last_x, 1.0, 0, "stopped", True
                )
            )
        return eps

    def stale(self, now: float) -> IntArray:
        """Slots with no point for more than ``stale_after`` of their usual intervals."""
        E = self._E[: self.n_slots]
        interval = np.exp(E[:, EP.T_LOGDT])
        late = (now - E[:, EP.T_LAST]) > self.stale_after * interval
        return np.flatnonzero(late & (E[:, EP.T_N] >= STALE_MIN_POINTS)).astype(np.int64)

    def state_dict(self, copy: bool = True) -> dict[str, np.ndarray]:
        """The state as named arrays: copies, or with ``copy=False`` views of the live arrays
        (for a reader that knows nothing scores until it is done with them: a final
        checkpoint; 400 MB at 100,000 series are then not copied first)."""
        d = {f"detector.{k}": v for k, v in self.detector.state_dict(copy=copy).items()}
        own = {"engine.slots": self._E[: self.n_slots], "engine.closed": self._closed}
        d |= {k: v.copy() for k, v in own.items()} if copy else own
        d["engine.policy"] = np.array([self.policy.threshold, self.stale_after])
        return d

    def load_state_dict(self, d: dict[str, np.ndarray]) -> None:
        det = {k.split(".", 1)[1]: v for k, v in d.items() if k.startswith("detector.")}
        self.detector.load_state_dict(det)
        E = np.asarray(d["engine.slots"], dtype=np.float64)
        self._E = grown_rows(np.zeros((0, EP.NE)), len(E), 0, huge=True)
        self._E[: len(E)] = E
        self._closed = np.asarray(d["engine.closed"], dtype=np.float64).reshape(-1, EP.CLOSED_WIDTH)
        threshold, stale_after = (float(v) for v in d["engine.policy"])
        self.policy = Policy(threshold)
        self.stale_after = stale_after
