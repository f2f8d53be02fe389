"""`opsradar demo` as a newcomer runs it: within 60 s the injected incidents top the board."""

from __future__ import annotations

import fnmatch
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from tests.e2e.conftest import FREE_PORTS, READY

from opsradar.simulate import Fleet


def test_demo_board_shows_the_injected_incidents_within_60_s(tmp_path: Path) -> None:
    hosts = 40
    fleet = Fleet(seed=1, hosts=hosts)
    fleet.plan_incidents(time.time())
    globs = {i.kind: i.series_glob for i in fleet.incidents}
    cmd = [
        sys.executable,
        "-m",
        "opsradar.cli",
        "demo",
        "--data-dir",
        str(tmp_path),
        *FREE_PORTS,
        "--hosts",
        str(hosts),
        "--backfill-hours",
        "3",
    ]
    started = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        port = None
        while port is None and time.monotonic() - started < 30:
            match = READY.search(proc.stdout.readline())
            if match:
                port = int(dict(p.split("=") for p in match.group(2).split())["http"])
        assert port is not None, "demo did not start"
        found: dict[str, int] = {}
        top = len(globs) + 2  # the incidents, give or take a normal blip
        while time.monotonic() - started < 60 and (
            len(found) < len(globs) or max(found.values()) >= top
        ):
            time.sleep(2)
            trends = httpx.get(f"http://127.0.0.1:{port}/api/v1/trends", timeout=10).json()
            found = {}
            for rank, trend in enumerate(trends["trends"]):
                for kind, glob in globs.items():
                    if kind not in found and any(fnmatch.fnmatch(s, glob) for s in trend["series"]):
                        found[kind] = rank
        assert set(found) == set(globs), f"incidents on the board: {found}, wanted {globs}"
        assert max(found.values()) < top, f"incidents not at the top: {found}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
