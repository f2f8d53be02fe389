"""In-process NAB scoring for development: the same engine as ``opsradar detect -``.

    .venv/bin/python bench/detect/nab_dev.py [--nab /work/shared/nab] [--hp name=value ...]
                                             [--per-file] [--file-range] [--halves]

Runs the default detector (optionally with hyper-parameter overrides) over every NAB file,
then prints NAB's swept and fixed-threshold (0.5) scores for all three profiles. The data
is read from the NAB checkout; nothing is copied. The official numbers in
docs/detection.md come from NAB's own runner against ``python -m opsradar.detect -``.

``--file-range`` is a reference measurement, not the shipped detector: before the first
point it gives the novelty channel the whole file's minimum and maximum as its range -
the knowledge NAB's harness hands every detector it runs (``inputMin``/``inputMax`` in
its base detector; Numenta HTM sets its encoder from them, CAD OSE and ARTime normalise
by them). opsradar is causal and never has it; this shows what that knowledge is worth.

``--halves`` also scores the two halves of the corpus (files split by the first byte of the
MD5 of their path: 26 and 32 files) on their own: a constant chosen on NAB as a whole
should be as good a choice on either half, or it is fitted to a few files.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import sys
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any

import numpy as np


def _score_file(args: tuple[str, str, dict[str, float], bool]) -> tuple[str, np.ndarray]:
    from opsradar.detect import Engine, OpsradarDetector
    from opsradar.detect import _kernel as K
    from opsradar.detect._csv import read_series

    path, rel, hp, file_range = args
    with open(path, newline="") as f:
        _, ts, xs = read_series(io.StringIO(f.read()))
    det = OpsradarDetector(**hp)  # type: ignore[arg-type]
    eng = Engine(det)
    slots = np.zeros(len(ts), dtype=np.int64)
    if not file_range:
        return rel, eng.score(slots, ts, xs)
    first = eng.score(slots[:1], ts[:1], xs[:1])
    det._S[0, K.NV_LO] = np.nanmin(xs)
    det._S[0, K.NV_HI] = np.nanmax(xs)
    return rel, np.concatenate([first, eng.score(slots[1:], ts[1:], xs[1:])])


Results = dict[str, dict[str, Any]]


def score_nab(
    ex: Executor, nab_root: str, corpus: Any, hp: dict[str, float], file_range: bool = False
) -> dict[str, np.ndarray]:
    """The default detector's scores (with ``hp`` overrides) for every file of ``corpus``."""
    jobs = [(os.path.join(nab_root, "data", rel), rel, hp, file_range) for rel in corpus.files]
    return dict(ex.map(_score_file, jobs))


def evaluate(nabscore: Any, ev: Any) -> tuple[Results, Results]:
    """The swept and the fixed-threshold (0.5) results of every profile (``nabscore`` is the
    NAB kit's scorer module, ``ev`` its events of one detector's scores)."""
    profiles = nabscore.load_profiles()
    return nabscore.score_events(ev, profiles), nabscore.score_events(ev, profiles, 0.5)


def report(nabscore: Any, ev: Any, prefix: str = "") -> tuple[Results, Results]:
    """Print ``evaluate``'s results, a line per profile; return them."""
    swept, fixed = evaluate(nabscore, ev)
    for name in swept:
        s, f = swept[name], fixed[name]
        print(
            f"{prefix}{name:20s} swept {s['score']:6.2f} @ {s['threshold']:.4f} "
            f"(win {s['windows_detected']}/{s['windows']}, fp {s['fp']:4d})   "
            f"fixed {f['score']:6.2f} (win {f['windows_detected']}, fp {f['fp']:4d})"
        )
    return swept, fixed


def _half(rel: str) -> int:
    return hashlib.md5(rel.encode()).digest()[0] % 2


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nab", default="/work/shared/nab")
    ap.add_argument("--hp", nargs="*", default=[])
    ap.add_argument("--per-file", action="store_true")
    ap.add_argument("--halves", action="store_true", help="also score each half of the corpus")
    ap.add_argument(
        "--file-range",
        action="store_true",
        help="reference only: seed the novelty range with the file's min and max",
    )
    a = ap.parse_args()
    sys.path.insert(0, a.nab)
    import nabscore  # type: ignore[import-not-found]

    hp = {k: float(v) for k, v in (kv.split("=") for kv in a.hp)}
    corpus = nabscore.load_corpus(a.nab)
    with ProcessPoolExecutor(2) as ex:
        scores = score_nab(ex, a.nab, corpus, hp, a.file_range)
    ev = nabscore.Events(corpus, scores)
    profiles = nabscore.load_profiles()
    _, fixed = report(nabscore, ev)
    if a.halves:
        for half in (0, 1):
            part = [rel for rel in corpus.files if _half(rel) == half]
            sub = nabscore.load_corpus(a.nab, only=part)
            sw = nabscore.score_events(
                nabscore.Events(sub, {rel: scores[rel] for rel in part}), profiles
            )
            print(
                f"half {'AB'[half]} ({len(part)} files)  "
                + "  ".join(f"{n} {sw[n]['score']:6.2f}" for n in profiles)
            )
    if a.per_file:
        pf = ev.per_file_at(fixed["standard"]["threshold"], profiles["standard"], corpus)
        for rel, v in sorted(pf.items(), key=lambda kv: kv[1]):
            print(f"  {v:7.3f} {rel}")


if __name__ == "__main__":
    main()
