"""Both judges of a detector change in one line: NAB and opsbench (seeds 0, 1, 2).

    .venv/bin/python bench/detect/judges.py [--hp name=value ...] [--seeds 0 1 2]

Prints the swept standard and reward-low-FP scores (and the standard score at the shipped
default threshold, 0.5) on NAB (``nab_dev.py``) and on each opsbench seed
(``opsbench.py``), for the default detector with the given hyper-parameter overrides.
NAB alone rewards window luck - one window is worth 1.9 raw points, ~0.8 of the normalised
score - so a change is a change of the method only if both judges agree
(docs/detection.md, "A second judge"). About 5 s a run on two cores.
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from nab_dev import Results, evaluate, score_nab
from opsbench import corpus, nab_corpus, score_all


def _line(label: str, swept: Results, fixed: Results) -> str:
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

    def judge(label: str, nab: Any, scores: dict[str, Any]) -> str:
        return _line(label, *evaluate(nabscore, nabscore.Events(nab, scores)))

    out = [" ".join(a.hp) or "(defaults)"]
    with ProcessPoolExecutor(2) as ex:
        nab = nabscore.load_corpus(a.nab)
        out.append(judge("NAB", nab, score_nab(ex, a.nab, nab, hp)))
        for seed in a.seeds:
            data = corpus(seed, 180)
            out.append(
                judge(f"ops{seed}", nab_corpus(nabscore, data), score_all(ex, "opsradar", data, hp))
            )
    print("\n  ".join(out))


if __name__ == "__main__":
    main()
