"""Soak: run the real server for a while at half its measured capacity and watch it.

    .venv/bin/python bench/soak/soak.py --duration 600 [--hosts 200] [--fraction 0.5]

1. Starts ``opsradar serve`` on free ports with a fresh data directory.
2. Measures capacity: the demo fleet's host metrics (Graphite TCP) replayed as fast as the
   server takes them for ``--probe-seconds``; capacity = points scored per second.
3. Runs the demo's traffic shape (every host metric once per tick, StatsD spread over each
   flush window, a deploy event now and then) at ``--fraction`` of that capacity for
   ``--duration`` seconds, by choosing the tick length.
4. Every ``--every`` seconds prints one row: server memory (RSS), points sent and scored,
   points lost so far (sent over the wire minus scored, once the queue is empty), the time
   from sending a probe point to reading it back over HTTP, and the board's response time.

Ends with a Markdown table (for docs/benchmarks.md) and a JSON file with every sample.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

from opsradar.simulate import Fleet

READY = re.compile(r"opsradar listening on \S+: (.*)")


class ServerProcess:
    def __init__(self, data_dir: Path, extra: list[str]) -> None:
        cmd = [sys.executable, "-m", "opsradar.cli", "serve", "--data-dir", str(data_dir)]
        cmd += ["--http-port", "0", "--statsd-port", "0", "--graphite-port", "0", *extra]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            match = READY.search(line)
            if match:
                self.ports = {k: int(v) for k, v in (p.split("=") for p in match.group(1).split())}
                break
        else:
            raise SystemExit("server did not start")
        self.log: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()  # never block on the pipe
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.ports['http']}", timeout=30)

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.log.append(line)

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def metrics(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for line in self.http.get("/metrics").text.splitlines():
            if line and not line.startswith("#"):
                key, _, value = line.rpartition(" ")
                out[key] = float(value)
        return out

    def scored(self) -> float:
        return self.metrics().get("opsradar_points_scored_total", 0.0)

    def stop(self) -> int:
        self.proc.terminate()
        return self.proc.wait(timeout=120)


class Replay:
    """The fleet's host metrics for ``cycle`` steps, pre-formatted with a time placeholder,
    so sending a tick is one ``bytes.replace`` and one ``sendall``."""

    def __init__(self, fleet: Fleet, cycle: int = 60) -> None:
        names = fleet.layout.names
        _, values, _ = fleet.host_frame(np.arange(1000, 1000 + cycle, dtype=np.int64))
        self.blocks = [
            "".join(f"{n} {v:.2f} @T\n" for n, v in zip(names, values[:, j], strict=True)).encode()
            for j in range(cycle)
        ]
        self.lines = len(names)

    def tick(self, k: int, ts: float) -> bytes:
        return self.blocks[k % len(self.blocks)].replace(b"@T", b"%.3f" % ts)


def measure_capacity(server: ServerProcess, replay: Replay, seconds: float) -> float:
    """Points scored per second while the server is fed as fast as it reads."""
    stop = threading.Event()

    def blast() -> None:
        with socket.create_connection(("127.0.0.1", server.ports["graphite"])) as sock:
            k, t = 0, time.time() - 86400
            while not stop.is_set():
                sock.sendall(replay.tick(k, t))
                k, t = k + 1, t + 0.001

    thread = threading.Thread(target=blast, daemon=True)
    thread.start()
    time.sleep(3.0)  # compile and warm up
    s0, t0 = server.scored(), time.monotonic()
    time.sleep(seconds)
    rate = (server.scored() - s0) / (time.monotonic() - t0)
    stop.set()
    thread.join()
    _wait_idle(server)
    return rate


def _wait_idle(server: ServerProcess, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    last = -1.0
    while time.monotonic() < deadline:
        now = server.scored()
        if now == last and server.metrics().get("opsradar_queue_depth", 0) == 0:
            return
        last = now
        time.sleep(1.0)


class Feed:
    """The demo's shape at a chosen rate: all host metrics once per tick (Graphite TCP),
    StatsD datagrams each tick, a deploy event every few minutes, probe points for latency."""

    def __init__(self, server: ServerProcess, fleet: Fleet, replay: Replay, tick: float) -> None:
        self.server, self.fleet, self.replay, self.tick = server, fleet, replay, tick
        self.sent = 0
        self.probes: list[tuple[float, float]] = []  # (probe ts, seconds until readable)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        graphite = socket.create_connection(("127.0.0.1", self.server.ports["graphite"]))
        statsd = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        statsd_addr = ("127.0.0.1", self.server.ports["statsd"])
        start = time.monotonic()
        k = 0
        while not self._stop.is_set():
            due = start + k * self.tick
            delay = due - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)
            ts = time.time()
            graphite.sendall(self.replay.tick(k, ts))
            self.sent += self.replay.lines
            for part in self.fleet.statsd_datagrams(k)[k % 3]:  # a third of a demo step
                statsd.sendto(part, statsd_addr)
            k += 1
        graphite.close()
        statsd.close()

    def probe(self, http: httpx.Client) -> float:
        """Send one point and time how long until the API returns it."""
        ts = time.time()
        with socket.create_connection(("127.0.0.1", self.server.ports["graphite"])) as sock:
            sock.sendall(b"soak.probe 1 %.3f\n" % ts)
        self.sent += 1
        sent = time.monotonic()
        while time.monotonic() - sent < 30:
            r = http.get("/api/v1/series/soak.probe", params={"from": ts - 0.5})
            if r.status_code == 200 and r.json()["points"]:
                return time.monotonic() - sent
            time.sleep(0.01)
        return float("nan")


def board_latency(http: httpx.Client) -> float:
    t = time.monotonic()
    http.get("/api/v1/trends")
    return time.monotonic() - t


def run(args: argparse.Namespace) -> dict[str, object]:
    data = Path(tempfile.mkdtemp(prefix="opsradar-soak-"))
    server = ServerProcess(data, ["--flush-interval", "10"])
    fleet = Fleet(seed=1, hosts=args.hosts)
    replay = Replay(fleet)
    capacity = args.capacity or measure_capacity(server, replay, args.probe_seconds)
    target = capacity * args.fraction
    tick = replay.lines / target
    print(f"capacity {capacity:,.0f} points/s; feeding {target:,.0f} points/s", flush=True)
    print(f"({replay.lines} host series every {tick * 1000:.1f} ms, plus StatsD)", flush=True)
    base_sent = server.scored()
    base_received = server.metrics().get('opsradar_points_received_total{protocol="graphite"}', 0)
    feed = Feed(server, fleet, replay, tick)
    feed.start()
    samples: list[dict[str, float]] = []
    started = time.monotonic()
    prev_scored, prev_t = server.scored(), started
    header = "| t (s) | RSS (MB) | sent/s | scored/s | queue | probe (s) | board (s) |"
    print(header + "\n|---|---|---|---|---|---|---|", flush=True)
    while time.monotonic() - started < args.duration:
        time.sleep(args.every)
        now, scored = time.monotonic(), server.scored()
        m = server.metrics()
        row = {
            "t": round(now - started),
            "rss_mb": round(server.rss_mb(), 1),
            "sent": feed.sent,
            "scored": scored - base_sent,
            "scored_per_s": round((scored - prev_scored) / (now - prev_t)),
            "queue": m.get("opsradar_queue_depth", 0.0),
            "probe_s": round(feed.probe(server.http), 3),
            "board_s": round(board_latency(server.http), 3),
        }
        samples.append(row)
        prev_scored, prev_t = scored, now
        print(
            f"| {row['t']} | {row['rss_mb']} | {feed.sent / (now - started):,.0f} | "
            f"{row['scored_per_s']:,} | {row['queue']:.0f} | {row['probe_s']} | "
            f"{row['board_s']} |",
            flush=True,
        )
    feed.stop()
    _wait_idle(server)
    m = server.metrics()
    scored = server.scored() - base_sent
    received = m.get('opsradar_points_received_total{protocol="graphite"}', 0.0) - base_received
    rejected = {
        k.partition("{")[2].rstrip("}"): v
        for k, v in m.items()
        if k.startswith("opsradar_lines_rejected_total") and v
    }
    result = {
        "capacity_points_per_s": capacity,
        "target_points_per_s": target,
        "duration_s": args.duration,
        "graphite_points_sent": feed.sent,
        "graphite_points_received": received,
        "points_scored": scored,
        "lost": feed.sent - received + sum(rejected.values()),
        "rejected": rejected,
        "rss_mb_first": samples[0]["rss_mb"] if samples else None,
        "rss_mb_last": samples[-1]["rss_mb"] if samples else None,
        "rss_mb_max": max((s["rss_mb"] for s in samples), default=None),
        "disk_bytes": sum(f.stat().st_size for f in data.iterdir()),
        "samples": samples,
    }
    print(f"server exit code {server.stop()}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of soak")
    parser.add_argument("--hosts", type=int, default=200, help="demo fleet size")
    parser.add_argument("--fraction", type=float, default=0.5, help="of measured capacity")
    parser.add_argument("--capacity", type=float, default=0.0, help="skip measuring (points/s)")
    parser.add_argument("--probe-seconds", type=float, default=15.0)
    parser.add_argument("--every", type=float, default=30.0, help="seconds between rows")
    parser.add_argument("--out", type=Path, default=Path("bench/soak/result.json"))
    args = parser.parse_args()
    result = run(args)
    args.out.write_text(json.dumps(result, indent=1))
    keys = ("capacity_points_per_s", "target_points_per_s", "graphite_points_sent")
    keys += ("graphite_points_received", "points_scored", "lost")
    keys += ("rss_mb_first", "rss_mb_last", "rss_mb_max", "disk_bytes")
    for key in keys:
        print(f"{key}: {result[key]}")
    print(f"rejected: {result['rejected']}")


if __name__ == "__main__":
    main()
