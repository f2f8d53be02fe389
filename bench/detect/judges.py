"""Both judges of a detector change in one line: NAB and opsbench (seeds 0, 1, 2).

    .venv/bin/python bench/detect/judges.py [--hp name=value ...] [--seeds 0 1 2]

Prints the swept standard and reward-low-FP scores (and the standard score at the shipped
default threshold, 0.5) on NAB (``nab_dev.py``) and on each opsbench seed
(``opsbench.py``), for the default detector with the given hyper-parameter overrides.
NAB alone rewards window luck - one window is worth 1.9 raw points, ~0.8 of the normalised
score - so a change is a change of the method only if both judges agree
(docs/detection.md, "A second judge"). About 10 s a run on two cores.
"""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from nab_dev import _score_file
from opsbench import _score, corpus, windows


def _line(label: str, swept: dict[str, Any], fixed: dict[str, Any]) -> str:
    s, low = swept["standard"], swept["reward_low_FP_rate"]
    return (
        f"{label} {s['score']:6.2f} / {low['score']:6.2f} "
        f"(at 0.5 {fixed['standard']['score']:6.2f}, win {s['windows_detected']}/"
        f"{s['windows']}, fp {s['fp']})"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nab", default="/work/shared/nab")
    ap.add_argument("--hp", nargs="*", default=[])
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    a = ap.parse_args()
    sys.path.insert(0, a.nab)
    import nabscore  # type: ignore[import-not-found]

    hp = {k: float(v) for k, v in (kv.split("=") for kv in a.hp)}
    profiles = nabscore.load_profiles()

    def judge(nab_corpus: Any, scores: dict[str, Any]) -> tuple[dict[str, Any], ...]:
        ev = nabscore.Events(nab_corpus, scores)
        return nabscore.score_events(ev, profiles), nabscore.score_events(ev, profiles, 0.5)

    out = [" ".join(a.hp) or "(defaults)"]
    nab = nabscore.load_corpus(a.nab)
    jobs = [(os.path.join(a.nab, "data", rel), rel, hp, False) for rel in nab.files]
    with ProcessPoolExecutor(2) as ex:
        out.append(_line("NAB", *judge(nab, dict(ex.map(_score_file, jobs)))))
        for seed in a.seeds:
            data = corpus(seed, 180)
            spec = {n: (len(x), windows(len(x), [o for o, _ in lab])) for n, _, x, lab in data}
            runs = ex.map(_score, [("opsradar", ts, x, hp) for _, ts, x, _ in data])
            scores = {name: s for (name, *_), s in zip(data, runs, strict=True)}
            out.append(
                _line(f"ops{seed}", *judge(nabscore.Corpus.from_index_windows(spec), scores))
            )
    print("\n  ".join(out))


if __name__ == "__main__":
    main()
