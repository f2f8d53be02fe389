"""The `opsradar` command as a user runs it: a real subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np


def _run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "opsradar.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_detect_scores_every_row_and_flags_the_spike(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    values = 10 + rng.normal(0, 1, 2000)
    values[1500] = 60
    rows = "\n".join(f"{1_600_000_000 + 300 * i},{v:.4f}" for i, v in enumerate(values))
    path = tmp_path / "series.csv"
    path.write_text("timestamp,value\n" + rows + "\n")
    result = _run("detect", str(path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "timestamp,value,anomaly_score,anomaly"
    assert len(lines) == 2001
    scores = np.array([float(line.split(",")[2]) for line in lines[1:]])
    flags = np.array([int(line.split(",")[3]) for line in lines[1:]])
    assert ((scores >= 0) & (scores <= 1)).all()
    assert flags[1500] == 1 and scores[1500] == scores.max()
    assert flags[:1500].sum() <= 3
    same = _run("detect", "-", stdin=path.read_text())
    assert same.stdout == result.stdout


def test_detect_rejects_bad_input_with_a_message_and_exit_2() -> None:
    for bad in ["", "timestamp,value\n", "1,2\n2,abc\n"]:
        result = _run("detect", "-", stdin=bad)
        assert result.returncode == 2
        assert result.stderr.startswith("opsradar detect:")


def test_unknown_detector_fails_before_any_socket_opens(tmp_path: Path) -> None:
    result = _run("serve", "--detector", "nope", "--data-dir", str(tmp_path), "--http-port", "0")
    assert result.returncode != 0
    assert "unknown detector 'nope'" in result.stderr


def test_bad_flag_values_are_usage_errors() -> None:
    result = _run("serve", "--http-port", "99999")
    assert result.returncode == 2 and "http_port" in result.stderr


def test_demo_without_a_data_dir_writes_to_a_fresh_temporary_one() -> None:
    ports = ["--http-port", "0", "--statsd-port", "0", "--graphite-port", "0"]
    ports += ["--statsd-tcp-port", "-1", "--graphite-udp-port", "-1", "--pickle-port", "-1"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "opsradar.cli", "demo", *ports, "--hosts", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("demo data: "), first
        path = Path(first.removeprefix("demo data: ").strip())
        assert path.name.startswith("opsradar-demo-") and path.is_dir()
        assert not Path("opsradar-data").exists() or Path("opsradar-data").resolve() != path
    finally:
        proc.terminate()
        proc.wait(timeout=30)
