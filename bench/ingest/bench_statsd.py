"""StatsD throughput, side by side: opsradar vs Etsy's statsd (npm), same datagrams.

    npm install --prefix bench/ingest          # once: Etsy's statsd 0.9.0
    .venv/bin/python bench/ingest/bench_statsd.py --keys 1000 --lines 2000000

Every line is a counter increment ``k<i>:1|c``, so the sum of flushed ``.count`` values
says exactly how many lines each daemon kept. The sender blasts pre-built ~1400-byte
datagrams as fast as it can, optionally paced to ``--rate`` lines/s; flushes run every
second during the run. Prints lines/s offered, lines kept and loss for each daemon.

opsradar is the real server (``opsradar serve``: each flush is scored and stored, and the
counts are read back from its DuckDB file after it stops); Etsy's statsd flushes to a
Graphite sink in this process. Each daemon is pinned to core 0 and the sender (and this
process) to core 1 with ``taskset``; the kernel's receive-buffer defaults are left alone.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_graphite import (  # the same server start and stop as the Graphite bench
    ROOT,
    SENDER_CPU,
    SERVER_CPU,
    _free_port,
    _stop,
    _wait_port,
    warm_jit,
)

HERE = Path(__file__).resolve().parent
STATS_JS = HERE / "node_modules/statsd/stats.js"


def datagrams(keys: int, lines: int, size: int = 1400) -> list[bytes]:
    out, buf, n = [], [], 0
    for i in range(lines):
        line = f"bench.k{i % keys}:1|c".encode()
        if n + len(line) + 1 > size:
            out.append(b"\n".join(buf))
            buf, n = [], 0
        buf.append(line)
        n += len(line) + 1
    if buf:
        out.append(b"\n".join(buf))
    return out


def _send(port: int, payload: list[bytes], rate: float, result: mp.Queue) -> None:
    os.sched_setaffinity(0, {int(SENDER_CPU)})
    per = max(1, sum(d.count(b"\n") + 1 for d in payload) // len(payload))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
        start = time.perf_counter()
        for i, d in enumerate(payload):
            s.sendto(d, ("127.0.0.1", port))
            if rate and i % 64 == 0:
                ahead = (i * per) / rate - (time.perf_counter() - start)
                if ahead > 0:
                    time.sleep(ahead)
        result.put(time.perf_counter() - start)


def send(port: int, payload: list[bytes], rate: float) -> float:
    q: mp.Queue = mp.Queue()
    p = mp.Process(target=_send, args=(port, payload, rate, q))
    p.start()
    p.join()
    return float(q.get())


COUNTED = """
SELECT coalesce(sum(p.value), 0) FROM points p JOIN series s ON s.id = p.series_id
WHERE s.name LIKE 'stats.counters.bench.%.count'
"""


def run_opsradar(payload: list[bytes], rate: float) -> tuple[float, float]:
    """The real server (``opsradar serve``, StatsD over UDP only) on SERVER_CPU: every
    flush is scored and stored as in production, and the flushed counts are read back
    from its DuckDB file once it has stopped."""
    import duckdb

    warm_jit()
    with tempfile.TemporaryDirectory() as work:
        port, http = _free_port(), _free_port()
        cmd = [
            *("taskset", "-c", SERVER_CPU, str(ROOT / ".venv/bin/python"), "-m", "opsradar.cli"),
            *("serve", "--data-dir", work, "--http-port", str(http), "--statsd-port", str(port)),
            *("--statsd-tcp-port", "-1", "--graphite-port", "-1", "--graphite-udp-port", "-1"),
            *("--pickle-port", "-1", "--flush-interval", "1"),
        ]
        limits = {"OPSRADAR_MAX_SERIES": "0", "OPSRADAR_MAX_SERIES_PER_PREFIX": "0"}
        with open(Path(work) / "opsradar.log", "wb") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                    env={**os.environ, **limits})  # fmt: skip
            _wait_port(http, proc)
            time.sleep(1.0)
            seconds = send(port, payload, rate)
            time.sleep(2.5)  # the last interval's flush
            _stop(proc)
        with duckdb.connect(str(Path(work) / "opsradar.duckdb"), read_only=True) as con:
            row = con.execute(COUNTED).fetchone()
    return seconds, float(row[0]) if row else 0.0


def run_etsy(payload: list[bytes], rate: float) -> tuple[float, float]:
    carbon = socket.create_server(("127.0.0.1", 0))
    kept = [0.0]

    def serve() -> None:
        while True:
            try:
                conn, _ = carbon.accept()
            except OSError:
                return
            with conn:
                data = b"".join(iter(lambda c=conn: c.recv(1 << 20), b""))  # type: ignore[misc]
            for line in data.decode().splitlines():
                name, value, _ = line.split(" ")
                if name.startswith("stats.counters.bench.") and name.endswith(".count"):
                    kept[0] += float(value)

    threading.Thread(target=serve, daemon=True).start()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with socket.create_server(("127.0.0.1", 0)) as mgmt:
        mgmt_port = mgmt.getsockname()[1]
    config = {
        "address": "127.0.0.1", "port": port, "mgmt_address": "127.0.0.1",
        "mgmt_port": mgmt_port, "flushInterval": 1000, "graphiteHost": "127.0.0.1",
        "graphitePort": carbon.getsockname()[1], "graphite": {"legacyNamespace": False},
        "backends": ["./backends/graphite"],
    }  # fmt: skip
    with tempfile.NamedTemporaryFile("w", suffix=".js", delete=False) as f:
        json.dump(config, f)
    proc = subprocess.Popen(
        ["taskset", "-c", SERVER_CPU, "node", str(STATS_JS), f.name],
        cwd=STATS_JS.parent,
        stdout=subprocess.DEVNULL,
    )
    time.sleep(1.0)
    seconds = send(port, payload, rate)
    time.sleep(2.5)
    proc.terminate()
    proc.wait()
    carbon.close()
    return seconds, kept[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keys", type=int, default=1000)
    ap.add_argument("--lines", type=int, default=2_000_000)
    ap.add_argument("--rate", type=float, default=0.0, help="lines/s to offer (0 = flat out)")
    ap.add_argument("--only", choices=["opsradar", "etsy-statsd"])
    args = ap.parse_args()
    if shutil.which("taskset") is None:
        sys.exit("needs taskset (util-linux)")
    os.sched_setaffinity(0, {int(SENDER_CPU)})  # the sender, and the sink of Etsy's flushes
    if args.only != "opsradar" and not (shutil.which("node") and STATS_JS.exists()):
        sys.exit("needs node and Etsy's statsd (make unit, or npm ci --prefix bench/ingest)")
    payload = datagrams(args.keys, args.lines)
    peers = [("opsradar", run_opsradar), ("etsy-statsd", run_etsy)]
    peers = [(name, run) for name, run in peers if args.only in (None, name)]
    print(f"{args.lines:,} lines, {args.keys:,} keys, {len(payload):,} datagrams")
    results = {}
    for name, run in peers:
        seconds, kept = run(payload, args.rate)
        results[name] = kept
        print(
            f"{name:12s} offered {args.lines / seconds:>12,.0f} lines/s  "
            f"kept {kept:>12,.0f}  loss {1 - kept / args.lines:7.2%}"
        )
    if len(results) == 2 and results["etsy-statsd"]:
        print(f"kept ratio opsradar/etsy: {results['opsradar'] / results['etsy-statsd']:.2f}")


if __name__ == "__main__":
    main()
