"""The server's wiring in-process: the final checkpoint, written from the live detector
state with no copy, restores exactly what was scored."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
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


# numba kernels called from Python, per module, and those called only from other kernels
# (compiled into their callers; a new kernel fails the test until it is listed here)
ENTRY_KERNELS = {
    "opsradar.detect._kernel": {"init_rows", "score_points"},
    "opsradar.detect._episodes": {"track"},
    "opsradar.ingest._graphite_scan": {"_scan"},
    "opsradar.ingest._path_index": {"_find", "_add", "_rehash"},
    "opsradar.ingest._statsd_fast": {"_pass", "_hash_rows"},
    "opsradar.rank._windows": {"_stats"},
}
INNER_KERNELS = {"_learn_seasonal", "_probe", "_place"}


def test_every_compiled_kernel_is_ready_before_the_server_listens(tmp_path: Path) -> None:
    """A kernel compiled on first use holds the GIL for seconds while the listeners' sockets
    overflow: start() compiles (or loads) them all first. In a fresh interpreter, so that no
    earlier test has compiled anything: once start() returns, before a single point has
    arrived, every kernel called from Python has a compiled signature."""
    code = textwrap.dedent(
        f"""
        import importlib, pathlib, sys
        from numba.core.registry import CPUDispatcher
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_server import _server
        srv = _server(pathlib.Path({str(tmp_path)!r}))
        srv.start()
        try:
            report = {{}}
            for m in {sorted(ENTRY_KERNELS)!r}:
                mod = importlib.import_module(m)
                for name, obj in vars(mod).items():
                    if isinstance(obj, CPUDispatcher) and obj.__module__ == m:
                        if obj.targetoptions.get("inline") != "always":
                            report[m + ":" + name] = len(obj.signatures)
            print(report)
        finally:
            srv.stop()
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    report = ast.literal_eval(out.stdout.strip().splitlines()[-1])
    entries = {f"{m}:{k}" for m, ks in ENTRY_KERNELS.items() for k in ks}
    unlisted = {k for k in report if k not in entries and k.split(":")[1] not in INNER_KERNELS}
    assert not unlisted, f"kernels neither entry points nor inner: {sorted(unlisted)}"
    assert entries <= set(report), sorted(entries - set(report))
    cold = sorted(k for k in entries if report[k] == 0)
    assert not cold, f"not compiled before listening: {cold}"
