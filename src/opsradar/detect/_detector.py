"""Detectors: the protocol, the registry, and the default ``opsradar`` detector.

A detector holds its hyper-parameters and its state as arrays indexed by series slot.
It has no clock and does no I/O: time arrives with the points. ``score`` scores every
point first, then learns from it.
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple, Protocol, runtime_checkable

import numpy as np

from opsradar.core import ConfigError, FloatArray, IntArray, grown_rows
from opsradar.detect import _kernel as K

KIND_NAMES: tuple[str, ...] = (
    "spike",
    "dip",
    "level_shift",
    "variance",
    "drift",
    "flatline",
    "recovery",
    "unusual_run",
    "new_pattern",
    "out_of_range",
)


class Scored(NamedTuple):
    """Per-point output of a detector (all arrays have one entry per input point)."""

    score: FloatArray  # final score in [0, 1] (after refractory suppression)
    raw: FloatArray  # calibrated score before suppression (episodes use it)
    expected: FloatArray  # what the detector expected at this point
    scale: FloatArray  # typical spread of the series around ``expected``
    kind: IntArray  # index into KIND_NAMES, -1 when not scored


@runtime_checkable
class Detector(Protocol):
    name: ClassVar[str]
    warmup: int

    @property
    def n_slots(self) -> int: ...

    def score(self, slots: IntArray, ts: FloatArray, values: FloatArray) -> Scored: ...

    def state_dict(self, copy: bool = True) -> dict[str, np.ndarray]: ...

    def load_state_dict(self, d: dict[str, np.ndarray]) -> None: ...

    def state_bytes_per_slot(self) -> int: ...


class OpsradarDetector:
    """Robust multi-channel residual scoring with calibrated tails (see docs/detection.md).

    Parameters are in points (not seconds), so they mean the same at any sampling rate.
    """

    name: ClassVar[str] = "opsradar"

    def __init__(
        self,
        alpha_fast: float = 0.3,
        alpha_scale: float = 0.02,
        alpha_slow: float = 0.002,
        warmup: int = 20,
        refractory: int = 50,
        alarm: float = 0.5,
        s_half: float = 4.0,
        tail: float = 0.03,
        likelihood_short: float = 0.1,
        likelihood_long: float = 0.001,
        huber: float = 3.0,
        damp: float = 0.5,
        w_point: float = 1.0,
        w_shift: float = 1.0,
        w_var: float = 1.0,
        w_flat: float = 0.75,
        w_likelihood: float = 1.0,
        w_drift: float = 1.0,
        w_novelty: float = 1.0,
        novelty_short: float = 0.15,
        novelty_long: float = 0.0005,
        repeat_rate: float = 0.01,
        ztail_step: float = 0.003,
        resolution: float = 1.0,
        recur_base: float = 3.0,
        recur_decay: float = 0.25,
        recur_cap: float = 8.0,
        extreme_margin: float = 0.2,
        extreme_gain: float = 15.0,
        extreme_fade: float = 0.0002,
        extreme_min_n: float = 100.0,
        extreme_commit: float = 100.0,
    ) -> None:
        self.warmup = warmup
        hp = np.zeros(K.N_HP)
        hp[K.HP_ALPHA_FAST] = alpha_fast
        hp[K.HP_ALPHA_SCALE] = alpha_scale
        hp[K.HP_ALPHA_SLOW] = alpha_slow
        hp[K.HP_WARMUP] = warmup
        hp[K.HP_REFRACTORY] = refractory
        hp[K.HP_ALARM] = alarm
        hp[K.HP_S_HALF] = s_half
        hp[K.HP_TAU] = tail
        hp[K.HP_LK_SHORT] = likelihood_short
        hp[K.HP_LK_LONG] = likelihood_long
        hp[K.HP_HUBER] = huber
        hp[K.HP_DAMP] = damp
        hp[K.HP_W : K.HP_W + 6] = (w_point, w_shift, w_var, w_flat, w_likelihood, w_drift)
        hp[K.HP_W_NOVEL] = w_novelty
        hp[K.HP_NV_SHORT] = novelty_short
        hp[K.HP_NV_LONG] = novelty_long
        hp[K.HP_REP] = repeat_rate
        hp[K.HP_ZSTEP] = ztail_step
        hp[K.HP_RES] = resolution
        hp[K.HP_RC_BASE] = recur_base
        hp[K.HP_RC_DECAY] = recur_decay
        hp[K.HP_RC_CAP] = recur_cap
        hp[K.HP_X_MARGIN] = extreme_margin
        hp[K.HP_X_GAIN] = extreme_gain
        hp[K.HP_X_FADE] = extreme_fade
        hp[K.HP_X_MIN_N] = extreme_min_n
        hp[K.HP_X_COMMIT] = extreme_commit
        self._hp = hp
        # per-point -log10 p of each channel when given n rows (analysis), else 0 rows
        self._channel_out = np.zeros((0, 8))
        self._n = 0
        self._S = np.zeros((0, K.NF))
        self._SEAS = np.zeros((0, K.N_SEAS))
        self._NV = np.zeros((0, K.NV_WORDS), dtype=np.uint64)

    @property
    def n_slots(self) -> int:
        return self._n

    def _grow(self, need: int) -> None:
        """Slots up to ``need``, their rows initialised. Past a thousand slots the arrays are
        reserved for a million as address space (``core.grown_rows``): growing copies
        nothing, and memory is touched only by the rows in use."""
        n = self._n
        if need > n:
            self._S = grown_rows(self._S, need, n, huge=True)
            self._SEAS = grown_rows(self._SEAS, need, n, huge=True)
            self._NV = grown_rows(self._NV, need, n, huge=True)
            K.init_rows(self._S, self._SEAS, n, need)
            self._n = need

    def score(self, slots: IntArray, ts: FloatArray, values: FloatArray) -> Scored:
        n = len(slots)
        if n:
            lo = int(slots.min())
            if lo < 0:
                raise ValueError(f"slot {lo} is negative")
            self._grow(int(slots.max()) + 1)
        out = Scored(
            np.empty(n), np.empty(n), np.empty(n), np.empty(n), np.empty(n, dtype=np.int64)
        )
        K.score_points(
            self._S, self._SEAS, self._NV, self._hp, slots, ts, values, *out, self._channel_out
        )
        return out

    def state_dict(self, copy: bool = True) -> dict[str, np.ndarray]:
        """The state as named arrays: copies, or with ``copy=False`` views of the live arrays
        (for a reader that knows nothing scores until it is done with them)."""
        n = self._n
        d = {"scalars": self._S[:n], "seasonal": self._SEAS[:n], "novelty": self._NV[:n]}
        d["hyper"] = self._hp
        return {k: v.copy() for k, v in d.items()} if copy else d

    def load_state_dict(self, d: dict[str, np.ndarray]) -> None:
        S = np.asarray(d["scalars"], dtype=np.float64)
        seasonal = d["seasonal"]
        width = S.shape[1] if S.ndim == 2 else 0
        older = width in K.OLDER_NF and len(d["hyper"]) == K.N_HP
        if older and seasonal.shape == (len(S), K.N_SEAS):
            # an older layout that this one extends with fields starting at 0
            S = np.hstack([S, np.zeros((len(S), K.NF - width))])
            if width == K.OLDER_NF[0]:
                # its recurrence peaks were kept as they were, now with the time seen
                seasonal = np.array(seasonal, dtype=np.float64)
                fade = d["hyper"][K.HP_RC_DECAY] / K.DAY * S[:, K.LAST_TS]
                seasonal[:, K.N_PEAK : K.N_SEAS] += fade[:, None]
        if (
            S.ndim != 2
            or S.shape[1] != K.NF
            or seasonal.shape != (len(S), K.N_SEAS)
            or d["novelty"].shape != (len(S), K.NV_WORDS)
            or len(d["hyper"]) != K.N_HP
        ):
            raise ValueError("state does not match this detector's layout")
        n = len(S)  # into arrays that can grow without a copy, as _grow makes them
        self._S = grown_rows(np.zeros((0, K.NF)), n, 0, huge=True)
        self._SEAS = grown_rows(np.zeros((0, K.N_SEAS)), n, 0, huge=True)
        self._NV = grown_rows(np.zeros((0, K.NV_WORDS), np.uint64), n, 0, huge=True)
        self._S[:n], self._SEAS[:n], self._NV[:n] = S, seasonal, d["novelty"]
        self._n = n
        self._hp = np.asarray(d["hyper"], dtype=np.float64).copy()

    def state_bytes_per_slot(self) -> int:
        """Bytes of detector state per series (scalars, seasonal buckets, novelty bits)."""
        return K.NF * 8 + K.N_SEAS * 8 + K.NV_WORDS * 8


DETECTORS: dict[str, type[OpsradarDetector]] = {"opsradar": OpsradarDetector}
DEFAULT_DETECTOR = "opsradar"


def make_detector(name: str = DEFAULT_DETECTOR) -> OpsradarDetector:
    """Build a registered detector with its default hyper-parameters."""
    try:
        cls = DETECTORS[name]
    except KeyError:
        known = ", ".join(sorted(DETECTORS))
        raise ConfigError(f"unknown detector {name!r}; known: {known}") from None
    return cls()
