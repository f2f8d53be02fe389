"""Board benchmark: 100,000 series, 1,000 of them anomalous.

Reports p50/p95 of the board API (``/api/v1/trends``, recomputed every request and as served
with its 1 s cache), one series' 24 h chart data (``/api/v1/series/<name>``, from DuckDB),
"what moved" over every series (``/api/v1/moved``) and a deploy's impact page, through the
real app in-process (ASGI) over a real Store in a temp dir.

    .venv/bin/python bench/board_bench.py [--series 100000] [--anomalous 1000] [--runs 50]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

from opsradar.core import Event, PointBatch, SelfMetrics
from opsradar.detect import Episode
from opsradar.rank import Ranker
from opsradar.store import FeedbackLog, Store
from opsradar.web import WebContext, create_app

STEP = 10.0
HOT = 120  # points per series in the hot window for this run (20 min at 10 s)
SERVICES = ("web", "api", "checkout", "search", "auth", "billing", "cart", "mail")
METRICS = ("cpu.user", "cpu.system", "mem.used_pct", "disk.io_ops", "net.rx_bytes")


class _Sink:
    def put(self, batch: PointBatch) -> None:
        pass


def _names(n: int) -> list[str]:
    per_host = len(METRICS)
    return [
        f"hosts.{SERVICES[h % len(SERVICES)]}-{h // len(SERVICES):04d}.{METRICS[i % per_host]}"
        for h in range((n + per_host - 1) // per_host)
        for i in range(per_host)
    ][:n]


def _fill(store: Store, n: int, now: float, chart: list[str]) -> None:
    rng = np.random.default_rng(0)
    slots = store.resolve(_names(n))
    ts = now - (HOT - np.arange(HOT)) * STEP
    for lo in range(0, n, 10_000):  # hot window only: 100,000 x 120 points
        block = slots[lo : lo + 10_000]
        values = 50 + rng.normal(0, 1, (len(block), HOT))
        store.hot.append(
            np.repeat(block, HOT), np.tile(ts, len(block)), values.ravel(), np.zeros(values.size)
        )
    day = now - 86400 + np.arange(8640) * STEP  # 24 h on disk for the charted series
    for name in chart:
        slot = store.resolve([name])
        store.append(
            np.repeat(slot, len(day)), day, 50 + rng.normal(0, 1, len(day)), np.zeros(len(day))
        )
    store.flush()


def _episodes(n_series: int, k: int, now: float) -> list[Episode]:
    rng = np.random.default_rng(1)
    slots = rng.choice(n_series, size=k, replace=False)
    starts = now - rng.uniform(0, 3600, k)
    return [
        Episode(int(s), float(t), float(min(now, t + 300)), float(rng.uniform(0.5, 1)), 0.6,
                50.0, float(50 + rng.uniform(5, 50)), 1.0, 30, "level_shift", bool(i % 2))
        for i, (s, t) in enumerate(zip(slots, starts, strict=True))
    ]  # fmt: skip


def _time(client: TestClient, url: str, runs: int, before: object = None) -> list[float]:
    out = []
    for _ in range(runs):
        if callable(before):
            before()
        t0 = time.perf_counter()
        r = client.get(url)
        out.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, (url, r.text[:200])
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", type=int, default=100_000)
    ap.add_argument("--anomalous", type=int, default=1_000)
    ap.add_argument("--runs", type=int, default=50)
    args = ap.parse_args()
    now = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp), hot_points=HOT)
        store.open()
        chart = [f"app.chart.{i}" for i in range(5)]
        t0 = time.perf_counter()
        _fill(store, args.series, now, chart)
        print(f"filled {args.series:,} series in {time.perf_counter() - t0:.1f} s")
        for k in range(50):
            svc = SERVICES[k % len(SERVICES)]
            store.add_event(
                Event(now - 3600 + k * 70, f"deploy {svc}#{k}", ("deploy", f"service={svc}"))
            )
        eps = _episodes(args.series, args.anomalous, now)
        ranker = Ranker(lambda _: list(eps), store, FeedbackLog(), lambda: now)
        ctx = WebContext(store=store, metrics=SelfMetrics(), sink=_Sink(),
                         parse_points=lambda b: PointBatch([], np.empty(0), np.empty(0)),
                         trends=ranker.trends, ranker=ranker, clock=lambda: now)  # fmt: skip
        client = TestClient(create_app(ctx))
        n_trends = len(ranker.trends())
        event_id = store.events(0, now + 1)[0].id
        for url in ("/api/v1/trends", f"/api/v1/moved?from={now - 300}&until={now}", "/"):
            client.get(url)  # warm-up: compiled kernels load, templates compile
        client.get(f"/api/v1/events/{event_id}/impact")
        rows = [
            (
                "board API, recomputed",
                _time(client, "/api/v1/trends", args.runs, ranker.invalidate),
            ),
            ("board API, served (1 s cache)", _time(client, "/api/v1/trends", args.runs)),
            ("board page (HTML), recomputed", _time(client, "/", args.runs, ranker.invalidate)),
            ("one series, 24 h chart data", _time(client, f"/api/v1/series/{chart[0]}", args.runs)),
            (
                "what moved, all series",
                _time(client, f"/api/v1/moved?from={now - 300}&until={now}", 10),
            ),
            ("deploy impact", _time(client, f"/api/v1/events/{event_id}/impact", 10)),
        ]
        print(f"{args.series:,} series, {args.anomalous:,} anomalous -> {n_trends:,} trends")
        print("| request | p50 ms | p95 ms |\n|---|---:|---:|")
        for label, ms in rows:
            print(f"| {label} | {np.percentile(ms, 50):.1f} | {np.percentile(ms, 95):.1f} |")
        store.close()


if __name__ == "__main__":
    main()
