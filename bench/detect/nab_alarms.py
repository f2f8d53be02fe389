"""Which alarms are labelled, and could anything known at the time tell them apart?

    .venv/bin/python bench/detect/nab_alarms.py [--nab /work/shared/nab] [--hp name=value ...]

Runs the default detector over every NAB file (as ``nab_dev.py`` does) with the kernel's
per-channel output, and sorts each alarm (score >= 0.5, after the probationary period)
into the first detection of a labelled window or a false alarm (weighted as NAB weighs
it: full weight unless it follows a window closely). Then, for rules that use only what
was known when the alarm was raised, it prints how many windows and false alarms each
rule would drop and the NAB raw-score change that implies: a dropped window costs about
1.9 (its hit weight, ~0.85, and the miss, 1), a dropped false alarm gains its weight
times 0.11 (standard) or 0.22 (reward low FP). docs/detection.md quotes the result.

The rules include the shape of the last 3 - 24 values (their distance to the nearest
earlier window, in units of the series' step spread) and the rank of the value among all
earlier ones; rows marked "(hindsight)" look at the points *after* the alarm, which no
detector may, to show that not even a delayed, confirmed alarm would separate them.
``--below L`` also counts would-be alarms between raw score L and the alarm level (one per
50 points, outside the refractory period): in missed windows, detected ones, or false.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

CHANNELS = ("point", "shift", "var", "flat", "lik", "drift", "nov", "ext")
Alarm = dict[str, Any]


Run = tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
Windows = list[tuple[int, int]]


def _run(args: tuple[str, str, dict[str, float]]) -> Run:
    """``(file, ts, values, score, raw score, per-channel surprise)``."""
    from opsradar.detect import OpsradarDetector
    from opsradar.detect._csv import read_series

    path, rel, hp = args
    with open(path, newline="") as f:
        _, ts, xs = read_series(io.StringIO(f.read()))
    det = OpsradarDetector(**hp)  # type: ignore[arg-type]
    det._channel_out = np.zeros((len(ts), len(CHANNELS)))
    out = det.score(np.zeros(len(ts), dtype=np.int64), ts, xs)  # the engine's own kernel
    return rel, ts, np.asarray(xs, float), out.score, out.raw, det._channel_out


def _nearest(xs: np.ndarray, i: int, m: int) -> float:
    """RMS distance of the ``m`` values ending at ``i`` to the nearest earlier such window
    (not overlapping it), in units of the spread of the series' steps so far."""
    past = np.nan_to_num(xs[: i + 1])
    if i < 4 * m:
        return np.nan
    win = np.lib.stride_tricks.sliding_window_view(past, m)
    d = np.sqrt(((win[:-m] - win[-1]) ** 2).mean(axis=1)).min()
    return float(d / (np.std(np.diff(past)) + 1e-12))


def _rank(xs: np.ndarray, i: int) -> float:
    """Fraction of earlier values at least as far from their median as ``xs[i]``."""
    med = np.nanmedian(xs[:i])
    return float(np.mean(np.abs(xs[:i] - med) >= abs(xs[i] - med)))


def alarms(
    rel: str, xs: np.ndarray, s: np.ndarray, ch: np.ndarray, probation: int, wins: Windows
) -> list[Alarm]:
    """Every alarm after the probationary period (its first ``probation`` rows) with its
    tag, NAB weight and features; ``wins`` are the file's windows as row ranges (both from
    the NAB kit's scorer: ``FileInfo.start`` and ``.windows``)."""
    hit: set[int] = set()
    out: list[Alarm] = []
    past: list[tuple[int, int, float]] = []  # (row, leading channel, its surprise)
    for i in map(int, np.flatnonzero(s >= 0.5)):
        top = int(np.argmax(ch[i]))
        size = float(ch[i, top])
        tag, weight = "fp", 1.0
        for j, (a, b) in enumerate(wins):
            if a <= i <= b:
                tag = "extra" if j in hit else "hit"
                hit.add(j)
        if tag == "fp":
            before = [(a, b) for a, b in wins if b < i]
            if before:  # NAB's scaled sigmoid: a false alarm just after a window costs less
                a, b = max(before, key=lambda w: w[1])
                weight = 1.0 - 2.0 / (1.0 + np.exp(5.0 * (i - b) / (b - a + 1)))
        if i >= probation and tag != "extra":
            out.append(
                {
                    "file": rel,
                    "row": i,
                    "tag": tag,
                    "weight": float(weight),
                    "channel": CHANNELS[top],
                    "size": size,
                    "second": float(np.sort(ch[i])[-2]),  # the runner-up channel's surprise
                    "earlier": len(past),
                    "gap": i - past[-1][0] if past else i,
                    "rate": len(past) / max(i, 1),
                    "near": {m: _nearest(xs, i, m) for m in (3, 6, 12, 24)},
                    "rank": _rank(xs, i),
                    "ahead": int((ch[i + 1 : i + 13].max(axis=1, initial=0.0) >= 3.0).sum()),
                    "as_large": {
                        (f, m): sum(
                            1 for r, c, v in past if c == top and v >= f * size and i - r <= m
                        )
                        for f in (0.5, 0.8, 1.0)
                        for m in (2000, 5000, 20000)
                    },
                }
            )
        past.append((i, top, size))
    return out


def _at_least(key: str, v: float) -> Callable[[Alarm], bool]:
    return lambda a: bool(a[key] >= v)


def _below(key: str, v: float) -> Callable[[Alarm], bool]:
    return lambda a: bool(a[key] < v)


def _led(channel: str, below: float = np.inf) -> Callable[[Alarm], bool]:
    return lambda a: bool(a["channel"] == channel and a["size"] < below)


def _unsupported(lead: float, second: float) -> Callable[[Alarm], bool]:
    return lambda a: bool(a["size"] < lead and a["second"] < second)


def _near(m: int, d: float) -> Callable[[Alarm], bool]:
    return lambda a: bool(a["near"][m] < d)


def _below_alarm(run: Run, probation: int, wins: Windows, level: float) -> tuple[int, int, int]:
    """Would-be alarms with ``level <= raw < alarm`` after the probationary period, one per
    50 points and none within 50 of an alarm: (in a missed window, in a detected one,
    false)."""
    s, raw = run[3], run[4]
    found = [bool((s[a : b + 1] >= 0.5).any()) for a, b in wins]
    missed = free = false = 0
    last = -(10**9)
    for i in range(probation, len(s)):
        if s[i] >= 0.5:
            last = i
        elif raw[i] >= level and i - last > 50:
            last = i
            inside = [j for j, (a, b) in enumerate(wins) if a <= i <= b]
            if not inside:
                false += 1
            elif found[inside[0]]:
                free += 1
            else:
                missed += 1
    return missed, free, false


def _as_large(f: float, m: int, k: int) -> Callable[[Alarm], bool]:
    return lambda a: bool(a["as_large"][(f, m)] >= k)


def rules() -> dict[str, Callable[[Alarm], bool]]:
    r: dict[str, Callable[[Alarm], bool]] = {}
    for k in (1, 3, 5, 8, 12):
        r[f"{k}+ earlier alarms"] = _at_least("earlier", k)
    for g in (100, 200, 400):
        r[f"within {g} points of the last alarm"] = _below("gap", g)
    for q in (1e-3, 2e-3, 3e-3):
        r[f"alarm rate so far >= {q:g}"] = _at_least("rate", q)
    for c in CHANNELS:
        r[f"led by {c}"] = _led(c)
        r[f"led by {c}, surprise < 6"] = _led(c, 6.0)
    for lead in (5.0, 6.0, 8.0):
        for u in (1.0, 1.5, 2.0):
            r[f"led by < {lead:g}, no other channel >= {u:g}"] = _unsupported(lead, u)
    for m in (3, 6, 12, 24):
        for d in (0.05, 0.2, 0.5):
            r[f"last {m} values within {d} step spreads of an earlier window"] = _near(m, d)
    for q in (0.5, 0.84):
        r[f"value more typical than {q:.0%} of the history"] = _at_least("rank", q)
    for k in (12, 8):
        r[f"{k}+ of the next 12 points surprising (hindsight)"] = _at_least("ahead", k)
    for k in (2, 4):
        r[f"< {k} of the next 12 points surprising (hindsight)"] = _below("ahead", k)
    for f in (0.5, 0.8, 1.0):
        for m in (2000, 5000, 20000):
            for k in (1, 2, 3):
                r[f"{k}+ alarms of its channel >= {f} x as large in {m} points"] = _as_large(
                    f, m, k
                )
    return r


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nab", default="/work/shared/nab")
    ap.add_argument("--hp", nargs="*", default=[])
    ap.add_argument("--below", type=float, nargs="*", default=[], metavar="L")
    a = ap.parse_args()
    hp = {k: float(v) for k, v in (kv.split("=") for kv in a.hp)}
    sys.path.insert(0, a.nab)
    import nabscore  # type: ignore[import-not-found]

    corpus = nabscore.load_corpus(a.nab)
    jobs = [(os.path.join(a.nab, "data", rel), rel, hp) for rel in sorted(corpus.files)]
    found: list[Alarm] = []
    below = {level: [0, 0, 0] for level in a.below}
    with ProcessPoolExecutor(2) as ex:
        for run in ex.map(_run, jobs):
            rel, _, xs, s, _, ch = run
            fi = corpus.files[rel]
            found += alarms(rel, xs, s, ch, fi.start, fi.windows)
            for level, acc in below.items():
                for j, v in enumerate(_below_alarm(run, fi.start, fi.windows, level)):
                    acc[j] += v
    for level, (missed, free, false) in below.items():
        print(
            f"raw score in [{level:g}, 0.5): {missed} in missed windows, {free} in detected"
            f" ones, {false} false"
        )
    hits = [x for x in found if x["tag"] == "hit"]
    fps = [x for x in found if x["tag"] == "fp"]
    fp_weight = sum(x["weight"] for x in fps)
    print(f"first detections {len(hits)}, false alarms {len(fps)} (weight {fp_weight:.1f})")
    print(f"{'rule':62s} {'windows':>7s} {'false':>6s}  {'standard':>8s} {'low FP':>7s}")
    for name, rule in rules().items():
        h = sum(1 for x in hits if rule(x))
        w = [x["weight"] for x in fps if rule(x)]
        std, low_fp = 0.11 * sum(w) - 1.9 * h, 0.22 * sum(w) - 1.9 * h
        print(f"{name:62s} {h:7d} {len(w):6d}  {std:8.1f} {low_fp:7.1f}")


if __name__ == "__main__":
    main()
