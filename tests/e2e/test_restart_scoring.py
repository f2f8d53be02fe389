"""After a clean restart the detector goes on from its checkpoint: no new warm-up."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from tests.e2e.conftest import Running, start_server

STEP = 10.0


def _scores(server: Running, name: str, n: int, since: float) -> list[float]:
    with server.client() as http:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            doc = http.get(f"/api/v1/series/{name}", params={"from": since}).json()
            if len(doc.get("points", [])) >= n:
                return list(doc["scores"])
            time.sleep(0.2)
    raise AssertionError(f"{name} did not reach {n} points")


def test_scoring_continues_after_a_restart_without_a_new_warm_up(tmp_path: Path) -> None:
    data = tmp_path / "data"
    name = "app.queue.depth"
    rng = np.random.default_rng(7)
    t0 = time.time() - 400 * STEP
    values = 50 + rng.normal(0, 1, 400)
    first = start_server(data)
    first.graphite([f"{name} {v:.3f} {t0 + i * STEP:.0f}" for i, v in enumerate(values[:398])])
    _scores(first, name, 398, t0 - 1)
    assert first.stop() == 0
    assert (data / "detector.ckpt").exists()

    second = start_server(data)
    try:  # two more points: one normal, one far out; a cold detector would score both 0
        second.graphite(
            [f"{name} {values[398]:.3f} {t0 + 398 * STEP:.0f}", f"{name} 90 {t0 + 399 * STEP:.0f}"]
        )
        scores = _scores(second, name, 400, t0 - 1)
        assert scores[-1] >= 0.5, scores[-5:]
        assert scores[-2] < 0.5
    finally:
        second.stop()

    cold = start_server(tmp_path / "cold")  # the same two points on a detector with no past
    try:
        cold.graphite(
            [f"{name} {values[398]:.3f} {t0 + 398 * STEP:.0f}", f"{name} 90 {t0 + 399 * STEP:.0f}"]
        )
        assert _scores(cold, name, 2, t0 - 1)[-1] < 0.5
    finally:
        cold.stop()
