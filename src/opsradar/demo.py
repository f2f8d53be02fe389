"""`opsradar demo`: feed a running Server from the simulated fleet over its real listeners."""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any

import httpx

log = logging.getLogger("opsradar.demo")


def _graphite_sender(host: str, port: int) -> tuple[socket.socket, Any]:
    sock = socket.create_connection((host, port))

    def send(lines: list[str]) -> None:
        sock.sendall(
            "".join(line if line.endswith("\n") else line + "\n" for line in lines).encode()
        )

    return sock, send


def start_demo_traffic(server: Any, seed: int, hosts: int, backfill_hours: float) -> None:
    """Backfill history and past deploys, then run live traffic until the server stops."""
    from opsradar.simulate import Fleet

    ports = server.ports
    host = server.config.host if server.config.host not in ("0.0.0.0", "") else "127.0.0.1"
    http_base = f"http://{host}:{ports['http']}"
    fleet = Fleet(seed=seed, hosts=hosts)
    now = time.time()
    started = time.monotonic()
    sock, send = _graphite_sender(host, ports["graphite"])
    with sock, httpx.Client(base_url=http_base, timeout=10) as client:
        for event in fleet.events_between(now - backfill_hours * 3600, now):
            client.post("/api/v1/events", json=event)
        lines = fleet.backfill(send, now, hours=backfill_hours)
    server.pipeline.drain(timeout=120)
    log.info("demo: backfilled %d points in %.1f s", lines, time.monotonic() - started)
    stop = threading.Event()
    server_stop = server._stop  # the server's own stop flag ends the fleet

    def relay() -> None:
        server_stop.wait()
        stop.set()

    threading.Thread(target=relay, daemon=True).start()
    fleet.run(
        graphite=(host, ports["graphite"]),
        statsd=(host, ports["statsd"]),
        http_base=http_base,
        stop=stop,
        statsd_phase=server.listeners["statsd"].flush_phase,
    )
