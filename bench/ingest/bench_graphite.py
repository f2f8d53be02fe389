"""Graphite plaintext: points/s accepted AND durably stored, opsradar vs carbon-cache.

Both daemons get the same lines over one TCP connection, at 1,000 and 100,000 series, in
the same run. The server is pinned to one core and this sender to another (``taskset``).
The clock runs from the first byte sent until every point is on disk:

1. send every line, half-close, and wait for the server to close the connection (it has
   then read and parsed everything: both read a connection to its end before closing);
2. SIGTERM, and wait for the process to exit: opsradar drains its pipeline and flushes
   DuckDB; carbon-cache writes out its whole cache to whisper files before it exits;
3. after the clock stops, count what is on disk (DuckDB rows; whisper values) — a run
   that lost points fails loudly.

carbon-cache is Debian's ``graphite-carbon`` (Twisted, whisper) with its rate limits lifted
(``MAX_UPDATES_PER_SECOND``, ``MAX_CREATES_PER_MINUTE`` and the shutdown rate all ``inf``).
Memory per active series is the server's peak RSS (``ru_maxrss`` at its exit, so every
series is loaded and every point processed) minus its RSS at idle before the first byte,
over the number of series. Daemon CPU is the user + system time the
server used from the first byte to its exit (a VM shared with other work stretches the clock
more than it does this). opsradar's numba kernels are compiled
into their on-disk cache before its clock starts, as they are after any first start.

    apt-get install graphite-carbon
    .venv/bin/python bench/ingest/bench_graphite.py            # both sizes, both daemons
    .venv/bin/python bench/ingest/bench_graphite.py --series 1000 --only opsradar
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, where graphite-carbon and whisper live
CARBON = "/usr/bin/carbon-cache"
STEP = 10
SERVER_CPU, SENDER_CPU = "0", "1"


@dataclass
class Result:
    peer: str
    series: int
    points: int
    seconds: float
    accept_seconds: float
    stored: int
    rss_per_series: float
    cpu_seconds: float  # the daemon's user + system CPU from the first byte to its exit
    note: str = ""

    @property
    def rate(self) -> float:
        return self.points / self.seconds


def workload(series: int, points: int, now: float) -> tuple[list[str], list[bytes]]:
    """Names and the payload, in 1 MiB chunks: one point per series per round."""
    rounds = max(1, points // series)
    names = [f"bench.host{i % 500:03d}.svc{i // 500:04d}.metric{i}" for i in range(series)]
    rng = random.Random(1)
    start = int(now) - rounds * STEP
    chunks, buf = [], []
    size = 0
    for r in range(rounds):
        ts = start + r * STEP
        for name in names:
            line = f"{name} {rng.random() * 100:.3f} {ts}\n"
            buf.append(line)
            size += len(line)
            if size > 1 << 20:
                chunks.append("".join(buf).encode())
                buf, size = [], 0
    if buf:
        chunks.append("".join(buf).encode())
    return names, chunks


def send_all(port: int, chunks: list[bytes]) -> float:
    """Send everything, half-close, wait for the server to close; return when it did."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        for chunk in chunks:
            sock.sendall(chunk)
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(3600)
        while sock.recv(65536):
            pass
    return time.perf_counter()


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"port {port} never opened")


def cpu_seconds(pid: int) -> float:
    """User + system CPU a running process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _stop(proc: subprocess.Popen[bytes]) -> tuple[float, int]:
    """SIGTERM, wait for the exit; the CPU seconds the process used in all, and its peak
    RSS in bytes."""
    proc.send_signal(signal.SIGTERM)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


WARM = """
import numpy as np
from opsradar.detect import Engine, Policy, make_detector
from opsradar.ingest._graphite import warm
Engine(make_detector(), Policy(0.99)).score(np.arange(2), np.full(2, 1.7e9), np.ones(2))
warm()
"""


def warm_jit() -> None:
    """Compile opsradar's numba kernels into their on-disk cache, as after any first start
    (so a source file edited since the last run is not compiled inside the timed run)."""
    subprocess.run([str(ROOT / ".venv/bin/python"), "-c", WARM], check=True)


def run_opsradar(series: int, points: int, work: Path) -> Result:
    warm_jit()
    _, chunks = workload(series, points, time.time())
    total = sum(c.count(b"\n") for c in chunks)
    data = work / "opsradar-data"
    port = _free_port()
    cmd = [
        *("taskset", "-c", SERVER_CPU, str(ROOT / ".venv/bin/python"), "-m", "opsradar.cli"),
        *("serve", "--data-dir", str(data), "--http-port", "0", "--graphite-port", str(port)),
        *("--statsd-port", "-1", "--statsd-tcp-port", "-1", "--graphite-udp-port", "-1"),
        *("--pickle-port", "-1"),
    ]
    env = {**os.environ, "OPSRADAR_MAX_SERIES": str(series * 2)}
    log = (work / "opsradar.log").open("wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    _wait_port(port, proc)
    time.sleep(1.0)
    idle, cpu = rss(proc.pid), cpu_seconds(proc.pid)
    started = time.perf_counter()
    accepted = send_all(port, chunks)
    used, peak = _stop(proc)
    cpu = used - cpu
    done = time.perf_counter()
    stored = _duckdb_count(data / "opsradar.duckdb")
    stopped = [ln for ln in (work / "opsradar.log").read_text().splitlines() if "stopped:" in ln]
    return Result(
        "opsradar", series, total, done - started, accepted - started, stored,
        (peak - idle) / series, cpu, stopped[-1].split("stopped: ")[-1] if stopped else "",
    )  # fmt: skip


def _duckdb_count(path: Path) -> int:
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        row = con.execute("SELECT count(*) FROM points").fetchone()
    return int(row[0]) if row else 0


CARBON_CONF = """[cache]
STORAGE_DIR = {work}/storage/
LOCAL_DATA_DIR = {work}/storage/whisper/
WHITELISTS_DIR = {work}/storage/lists/
CONF_DIR = {work}/conf/
LOG_DIR = {work}/log/
PID_DIR = {work}/
DATABASE = whisper
ENABLE_LOGROTATION = False
MAX_CACHE_SIZE = inf
MAX_UPDATES_PER_SECOND = inf
MAX_UPDATES_PER_SECOND_ON_SHUTDOWN = inf
MAX_CREATES_PER_MINUTE = inf
MIN_TIMESTAMP_RESOLUTION = 1
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = {port}
ENABLE_UDP_LISTENER = False
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = {pickle_port}
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = {query_port}
USE_FLOW_CONTROL = True
LOG_UPDATES = False
LOG_CREATES = False
LOG_LISTENER_CONN_SUCCESS = False
CACHE_WRITE_STRATEGY = sorted
WHISPER_AUTOFLUSH = False
WHISPER_FALLOCATE_CREATE = True
CARBON_METRIC_INTERVAL = 0
"""

WHISPER_COUNT = """
import json, sys, time, whisper
root, names, start = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
total = 0
for name in names:
    path = root + "/" + name.replace(".", "/") + ".wsp"
    (_, _, _), values = whisper.fetch(path, start - 60, int(time.time()) + 60)
    total += sum(v is not None for v in values)
print(total)
"""


def run_carbon(series: int, points: int, work: Path) -> Result:
    now = time.time()
    names, chunks = workload(series, points, now)
    total = sum(c.count(b"\n") for c in chunks)
    rounds = max(1, points // series)
    port = _free_port()
    conf = work / "conf"
    conf.mkdir(parents=True)
    (work / "log").mkdir()
    (conf / "carbon.conf").write_text(
        CARBON_CONF.format(work=work, port=port, pickle_port=_free_port(), query_port=_free_port())
    )
    minutes = (rounds * STEP) // 60 + 30
    (conf / "storage-schemas.conf").write_text(
        f"[everything]\npattern = .*\nretentions = {STEP}s:{minutes}m\n"
    )
    cmd = [
        *("taskset", "-c", SERVER_CPU, SYSTEM_PYTHON, CARBON, f"--config={conf / 'carbon.conf'}"),
        *("--pidfile", str(work / "carbon.pid"), "--nodaemon", "start"),
    ]
    log = (work / "carbon.log").open("wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    _wait_port(port, proc)
    time.sleep(1.0)
    idle, cpu = rss(proc.pid), cpu_seconds(proc.pid)
    started = time.perf_counter()
    accepted = send_all(port, chunks)
    used, peak = _stop(proc)
    cpu = used - cpu
    done = time.perf_counter()
    sample = names if series <= 1000 else random.Random(2).sample(names, 1000)
    counted = subprocess.run(
        [SYSTEM_PYTHON, "-c", WHISPER_COUNT, str(work / "storage/whisper"), json.dumps(sample),
         str(int(now) - rounds * STEP)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    stored = round(int(counted) * series / len(sample))
    return Result(
        "carbon-cache", series, total, done - started, accepted - started, stored,
        (peak - idle) / series, cpu,
    )  # fmt: skip


def report(results: list[Result]) -> str:
    lines = [
        "| series | points | daemon | accepted + stored, points/s | of which receive (s) "
        "| total (s) | daemon CPU (s) | on disk | RSS per series |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.series:,} | {r.points:,} | {r.peer} | {r.rate:,.0f} | {r.accept_seconds:.1f} "
            f"| {r.seconds:.1f} | {r.cpu_seconds:.1f} | {r.stored:,} "
            f"| {r.rss_per_series / 1024:.1f} KiB |"
        )
    by = {(r.peer, r.series): r for r in results}
    for series in sorted({r.series for r in results}):
        ours, theirs = by.get(("opsradar", series)), by.get(("carbon-cache", series))
        if ours and theirs:
            lines.append(
                f"\n{series:,} series: opsradar / carbon-cache = {ours.rate / theirs.rate:.1f}x"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--points", type=int, default=1_000_000, help="points per size")
    parser.add_argument("--only", choices=["opsradar", "carbon-cache"])
    args = parser.parse_args()
    if shutil.which("taskset") is None or not Path(CARBON).exists():
        sys.exit("needs taskset and carbon-cache (apt-get install graphite-carbon)")
    os.sched_setaffinity(0, {int(SENDER_CPU)})
    results = []
    for series in args.series:
        for peer, run in (("opsradar", run_opsradar), ("carbon-cache", run_carbon)):
            if args.only not in (None, peer):
                continue
            with tempfile.TemporaryDirectory(prefix=f"bench-{peer}-") as tmp:
                result = run(series, args.points, Path(tmp))
            print(
                f"{peer:13s} {series:>7,} series: {result.rate:>10,.0f} points/s "
                f"(receive {result.accept_seconds:.1f}s, total {result.seconds:.1f}s, "
                f"CPU {result.cpu_seconds:.1f}s, "
                f"stored {result.stored:,}/{result.points:,})",
                flush=True,
            )
            if result.note:
                print(f"  {peer} {result.note}", flush=True)
            if result.stored < result.points * 0.999:
                print(f"  !! {peer} lost points", flush=True)
            results.append(result)
    print()
    print(report(results))


if __name__ == "__main__":
    main()
