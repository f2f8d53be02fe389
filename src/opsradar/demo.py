"""`opsradar demo`: feed a running Server from the simulated fleet over its real listeners."""

from __future__ import annotations

import logging
import time
from typing import Any

log = logging.getLogger("opsradar.demo")

BACKFILL_SEND_TIMEOUT = 300.0  # a busy server slows the sender (backpressure); never drop


def start_demo_traffic(server: Any, seed: int, hosts: int, backfill_hours: float) -> None:
    """Backfill history and past deploys, then run live traffic until the server stops."""
    from opsradar.simulate import EventPoster, Fleet, GraphiteSender

    ports = server.ports
    host = server.config.host if server.config.host not in ("0.0.0.0", "") else "127.0.0.1"
    http_base = f"http://{host}:{ports['http']}"
    fleet = Fleet(seed=seed, hosts=hosts)
    started = time.monotonic()
    with (
        GraphiteSender((host, ports["graphite"]), BACKFILL_SEND_TIMEOUT, fleet.counts) as out,
        EventPoster(http_base, counts=fleet.counts) as events,
    ):
        lines = fleet.backfill(out.send_lines, time.time(), backfill_hours, events.post)
    # every backfilled point is scored before live points of the same series arrive
    server.pipeline.drain(timeout=120)
    log.info("demo: backfilled %d points in %.1f s", lines, time.monotonic() - started)
    fleet.run(
        graphite=(host, ports["graphite"]),
        statsd=(host, ports["statsd"]),
        http_base=http_base,
        stop=server._stop,  # the server's own stop flag ends the fleet
        statsd_phase=server.listeners["statsd"].flush_phase,
    )
