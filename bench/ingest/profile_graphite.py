"""In-process profile of opsradar's Graphite path, stage by stage, per 1 M points.

Feeds the benchmark's lines, in 256 KiB reads, through ``GraphiteParser.parse`` and the
pipeline's stages (``store.resolve``, ``engine.score``, ``store.append``), then one DuckDB
flush; each stage timed separately after a warm-up (JIT compiled).

    .venv/bin/python bench/ingest/profile_graphite.py --series 1000 100000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_graphite import workload

from opsradar.detect import Engine, Policy, make_detector
from opsradar.ingest._graphite import GraphiteParser, warm
from opsradar.ingest._net import TCP_READ, LineFraming
from opsradar.store import Store


def reads(chunks: list[bytes]) -> list[bytes]:
    """The payload as the server's reads see it: TCP_READ bytes at a time, whole lines."""
    out: list[bytes] = []
    framing = LineFraming(out.append, lambda reason, n: None, 1 << 20)
    data = b"".join(chunks)
    for at in range(0, len(data), TCP_READ):
        framing.feed(data[at : at + TCP_READ])
    framing.close()
    return out


def profile(series: int, points: int, combine: int) -> dict[str, float]:
    _, chunks = workload(series, points, time.time())
    bufs = reads(chunks)
    warm()  # the parse's kernels compiled, as in a started server
    parser = GraphiteParser()
    parse_s = time.thread_time()
    batches = [parser.parse(b).batch("graphite") for b in bufs]
    times = {"parse": time.thread_time() - parse_s}
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp))
        store.open()
        engine = Engine(make_detector(), Policy(0.99))
        engine.score(np.zeros(1, np.int64), np.ones(1), np.ones(1))  # compile
        t = dict.fromkeys(("resolve", "score", "append"), 0.0)
        for i in range(0, len(batches), combine):
            group = batches[i : i + combine]
            names = [n for b in group for n in b.names]
            ts = np.concatenate([b.ts for b in group])
            values = np.concatenate([b.values for b in group])
            a = time.thread_time()
            slots = store.resolve(names)
            b_ = time.thread_time()
            scores = engine.score(slots, ts, values)
            c = time.thread_time()
            store.append(slots, ts, values, scores)
            d = time.thread_time()
            t["resolve"] += b_ - a
            t["score"] += c - b_
            t["append"] += d - c
        a = time.thread_time()
        store.close()
        t["flush"] = time.thread_time() - a
        times.update(t)
    scale = 1e6 / points
    return {k: v * scale for k, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--combine", type=int, default=1, help="reads per pipeline step")
    args = parser.parse_args()
    for series in args.series:
        times = profile(series, args.points, args.combine)
        total = sum(times.values())
        parts = ", ".join(f"{k} {v:.2f}s" for k, v in times.items())
        print(f"{series:>7,} series, per 1 M points: {parts}; total {total:.2f}s", flush=True)


if __name__ == "__main__":
    main()
