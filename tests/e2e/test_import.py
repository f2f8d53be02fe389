"""`opsradar import FILE` into the real server: CSV and Graphite lines, bad lines reported."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.conftest import Running


def _import(server: Running, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "opsradar.cli", "import", "--server", server.base, *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def _points(server: Running, name: str, since: float) -> list[list[float]]:
    with server.client() as http:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            doc = http.get(f"/api/v1/series/{name}", params={"from": since}).json()
            if doc.get("points"):
                return list(doc["points"])
            time.sleep(0.2)
    raise AssertionError(f"{name} never arrived")


def test_import_graphite_lines_and_csv_keeps_good_lines_and_names_bad_ones(
    server: Running, tmp_path: Path
) -> None:
    t0 = float(int(time.time()) - 40000)
    graphite = tmp_path / "dump.txt"
    lines = [f"imp.web.req {i * 1.5} {t0 + i:.0f}" for i in range(30000)]  # two HTTP batches
    lines[5] = "imp.web.req not-a-number 1"
    lines[7] = "bad..name 1 2"
    graphite.write_text("\n".join(lines) + "\n")
    done = _import(server, str(graphite))
    assert done.returncode == 1, done.stderr  # some lines were skipped, and said so
    assert "imported 29998 points" in done.stderr
    assert "line 6:" in done.stderr and "line 8:" in done.stderr
    with server.client() as http:  # a window far from the bad lines, read back raw
        window = {"from": t0 + 20000, "until": t0 + 20099}
        deadline = time.monotonic() + 20
        while (
            len(points := http.get("/api/v1/series/imp.web.req", params=window).json()["points"])
            < 100
        ):
            assert time.monotonic() < deadline, len(points)
            time.sleep(0.2)
    assert points == [[t0 + i, i * 1.5] for i in range(20000, 20100)]

    table = tmp_path / "one.csv"
    table.write_text("timestamp,value\n" + "".join(f"{t0 + 60 * i:.0f},{i}\n" for i in range(50)))
    done = _import(server, str(table), "--name", "imp.queue.depth;dc=ams")
    assert done.returncode == 0, done.stderr
    assert [v for _, v in _points(server, "imp.queue.depth;dc=ams", t0 - 1)] == list(range(50))


def test_import_reports_a_server_that_is_not_there(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("a.b 1 1700000000\n")
    done = subprocess.run(
        [sys.executable, "-m", "opsradar.cli", "import", "--server", "http://127.0.0.1:9",
         str(path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and done.stderr.startswith("opsradar import:")
