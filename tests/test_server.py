"""The server's wiring in-process: the final checkpoint, written from the live detector
state with no copy, restores exactly what was scored."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np

from opsradar.core import PointBatch, load_config
from opsradar.detect import load_checkpoint
from opsradar.server import Server

SERIES = 40


def _server(data: Path) -> Server:
    off = {"statsd_port": -1, "statsd_tcp_port": -1, "graphite_port": -1}
    off |= {"graphite_udp_port": -1, "pickle_port": -1}
    return Server(load_config({"data_dir": str(data), "http_port": 0} | off, {}))


def _batch(step: int) -> PointBatch:
    k = np.arange(SERIES)
    return PointBatch(
        names=[f"app.s{i}" for i in k],
        ts=np.full(SERIES, 1_700_000_000.0 + 10 * step),
        values=np.sin(k + step / 7) * (1 + k) + (step == 50) * 30.0,  # a jump: episodes open
        protocol="graphite",
    )


def test_the_closing_checkpoint_restores_the_same_state_and_scores(tmp_path: Path) -> None:
    srv = _server(tmp_path)
    srv.start()
    try:
        for step in range(60):
            srv.pipeline.put(_batch(step))
        srv.pipeline.drain()
        live = srv.engine.state_dict()  # a copy, taken before the stop
    finally:
        srv.stop()  # the closing checkpoint: the live arrays, no copy
    restored = load_checkpoint(tmp_path / "detector.ckpt")
    got = restored.state_dict()
    assert list(got) == list(live)
    for name, arr in live.items():
        assert got[name].dtype == arr.dtype, name
        np.testing.assert_array_equal(got[name], arr, err_msg=name)
    nxt = _batch(60)
    slots = np.arange(SERIES)  # both engines hold the same state: any slot order will do
    np.testing.assert_array_equal(
        restored.score(slots, nxt.ts, nxt.values), srv.engine.score(slots, nxt.ts, nxt.values)
    )
    assert restored.episodes(nxt.ts[0]) == srv.engine.episodes(nxt.ts[0])


def test_points_taken_while_winding_down_are_stored(tmp_path: Path) -> None:
    """At SIGTERM the wire listeners stop and the store flushes while uvicorn still closes
    HTTP: a point it takes meanwhile is scored and stored by the final stop."""
    srv = _server(tmp_path)
    srv.start()
    try:
        srv.pipeline.put(_batch(0))
        srv._wind_down()  # what the signal handler does
        srv.pipeline.put(_batch(1))  # over HTTP, before it closed
    finally:
        srv.stop()
    assert srv.engine.n_slots == SERIES
    with duckdb.connect(str(tmp_path / "opsradar.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM points").fetchone() == (2 * SERIES,)
