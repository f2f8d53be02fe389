"""`opsradar import FILE`: bulk-load CSV or Graphite-line files into a running server.

Points go through the server's own HTTP API in large batches, so they are stored and
scored exactly like live traffic. Unlike a wire listener, a file importer can say *which*
lines were bad: each is skipped, reported with its line number, and counted.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import httpx

from opsradar.core import InputError, parse_tagged, parse_timestamp, split

BATCH = 20_000


@dataclass
class ImportReport:
    points: int = 0
    bad: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    def skip(self, lineno: int, reason: str, line: str) -> None:
        self.bad[reason] += 1
        if len(self.examples) < 10:
            self.examples.append(f"line {lineno}: {reason}: {line[:80]!r}")


def _number(raw: str) -> float:
    value = float(raw)
    if not math.isfinite(value):
        raise ValueError("not finite")
    return value


def _when(raw: str) -> float:
    value = parse_timestamp(raw)
    if not math.isfinite(value):
        raise ValueError("not finite")
    return value


def graphite_points(
    lines: Iterator[str], report: ImportReport
) -> Iterator[tuple[str, float, float]]:
    """``path value timestamp`` per line (tagged paths allowed)."""
    for lineno, line in enumerate(lines, 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 3:
            report.skip(lineno, "expected 'path value timestamp'", line)
            continue
        try:
            name = parse_tagged(parts[0])
        except InputError:
            report.skip(lineno, "bad name", line)
            continue
        try:
            yield name, _number(parts[2]), _number(parts[1])
        except ValueError:
            report.skip(lineno, "bad value or timestamp", line)


def csv_points(
    lines: Iterator[str], report: ImportReport, name: str | None
) -> Iterator[tuple[str, float, float]]:
    """``name,timestamp,value`` rows, or ``timestamp,value`` with ``name`` given."""
    width = 2 if name is not None else 3
    for lineno, row in enumerate(csv.reader(lines), 1):
        if not row or (lineno == 1 and not _looks_numeric(row[-1])):
            continue  # blank line or header
        if len(row) != width:
            report.skip(lineno, f"expected {width} columns", ",".join(row))
            continue
        try:
            series = parse_tagged(name if name is not None else row[0])
        except InputError:
            report.skip(lineno, "bad name", ",".join(row))
            continue
        try:
            yield series, _when(row[-2]), _number(row[-1])
        except ValueError:
            report.skip(lineno, "bad value or timestamp", ",".join(row))


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def detect_format(first_line: str) -> str:
    """'graphite' for ``path value ts`` lines, else 'csv'.

    >>> detect_format("a.b 1.5 1700000000"), detect_format("timestamp,value")
    ('graphite', 'csv')
    """
    return "graphite" if len(first_line.split()) == 3 and "," not in first_line else "csv"


def import_file(
    stream: IO[str],
    client: httpx.Client,
    fmt: str = "auto",
    name: str | None = None,
    progress: Callable[[int], Any] = lambda n: None,
) -> ImportReport:
    """Read ``stream`` and POST its points to ``client``'s /api/v1/points in batches."""
    report = ImportReport()
    first = stream.readline()
    if fmt == "auto":
        fmt = detect_format(first)
    lines = _counting(_chain(first, stream), progress)
    points = csv_points(lines, report, name) if fmt == "csv" else graphite_points(lines, report)
    batch: list[dict[str, Any]] = []
    for series, ts, value in points:
        path, labels = split(series)
        point: dict[str, Any] = {"name": path, "ts": ts, "value": value}
        if labels:
            point["labels"] = labels
        batch.append(point)
        if len(batch) >= BATCH:
            report.points += _post(client, batch)
            batch = []
    if batch:
        report.points += _post(client, batch)
    return report


def _chain(first: str, rest: IO[str]) -> Iterator[str]:
    if first:
        yield first
    yield from rest


def _counting(lines: Iterator[str], progress: Callable[[int], Any]) -> Iterator[str]:
    for line in lines:
        progress(len(line.encode()))
        yield line


def _post(client: httpx.Client, batch: list[dict[str, Any]]) -> int:
    response = client.post("/api/v1/points", json={"points": batch})
    if response.status_code >= 400:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text[:200]
        raise InputError(f"server refused a batch ({response.status_code}): {message}")
    return int(response.json()["accepted"])


def open_text(path: str) -> IO[str]:
    if path == "-":
        import sys

        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace", newline="")
