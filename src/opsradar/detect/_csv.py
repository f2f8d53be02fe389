"""``detect`` on a CSV file: ``timestamp,value`` in, ``timestamp,value,anomaly_score,anomaly`` out.

Handling of bad input (pinned by tests/detect/test_csv.py):

* empty input, or a header and no rows: InputError;
* a value or timestamp that is not a number / ISO date: InputError naming the line;
* a duplicate or out-of-order timestamp (real exports have them: clocks moved for daylight
  saving, two samples in one second): the row is kept and scored in file order; the
  detector learns the value but not the interval. A note per such row is appended to
  ``notes`` (the CLI prints them on stderr);
* a value that is empty, ``nan`` or ``inf``: the row is kept and marked *missing*: it is
  printed with score 0 and anomaly 0, and it does not change the detector's state.
"""

from __future__ import annotations

import csv
import math
from typing import TextIO

import numpy as np

from opsradar.core import InputError, parse_timestamp
from opsradar.detect._engine import Engine, Policy

_MISSING = {"", "nan", "-nan", "inf", "+inf", "-inf", "infinity", "-infinity", "null", "none"}


def _is_header(row: list[str]) -> bool:
    try:
        parse_timestamp(row[0])
    except ValueError:
        return True
    return False


def read_series(
    infile: TextIO, notes: list[str] | None = None
) -> tuple[list[list[str]], np.ndarray, np.ndarray]:
    """Parse and validate; return (raw rows, timestamps, values with NaN for missing)."""
    rows = [r for r in csv.reader(infile) if r and any(c.strip() for c in r)]
    if rows and _is_header(rows[0]):
        header = [c.strip().lower() for c in rows[0]]
        cols = (
            (header.index("timestamp"), header.index("value"))
            if {
                "timestamp",
                "value",
            }
            <= set(header)
            else (0, 1)
        )
        rows, first_line = rows[1:], 2
    else:
        cols, first_line = (0, 1), 1
    if not rows:
        raise InputError("no data rows: expected CSV lines 'timestamp,value'")
    ts = np.empty(len(rows))
    xs = np.empty(len(rows))
    for i, row in enumerate(rows):
        line = first_line + i
        if len(row) <= max(cols):
            raise InputError(f"line {line}: expected 'timestamp,value', got {','.join(row)!r}")
        t_text, x_text = row[cols[0]].strip(), row[cols[1]].strip()
        try:
            ts[i] = parse_timestamp(t_text)
        except ValueError:
            raise InputError(f"line {line}: bad timestamp {t_text!r}") from None
        if not math.isfinite(ts[i]):
            raise InputError(f"line {line}: bad timestamp {t_text!r}")
        if i and ts[i] <= ts[i - 1] and notes is not None:
            what = "duplicate" if ts[i] == ts[i - 1] else "out-of-order"
            notes.append(f"line {line}: {what} timestamp {t_text!r}, scored in file order")
        xs[i] = _value(x_text, line)
    return [[r[cols[0]], r[cols[1]]] for r in rows], ts, xs


def _value(text: str, line: int) -> float:
    if text.lower() in _MISSING:
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise InputError(f"line {line}: value {text!r} is not a number") from None


def detect_csv(
    infile: TextIO, outfile: TextIO, threshold: float = 0.5, notes: list[str] | None = None
) -> int:
    """Score one series from CSV; write one output row per input row; return the row count."""
    rows, ts, xs = read_series(infile, notes)
    engine = Engine(policy=Policy(threshold))
    scores = engine.score(np.zeros(len(rows), dtype=np.int64), ts, xs)
    flags = engine.policy.decide(scores)
    out = csv.writer(outfile, lineterminator="\n")
    out.writerow(["timestamp", "value", "anomaly_score", "anomaly"])
    for (t_text, x_text), s, f in zip(rows, scores, flags, strict=True):
        out.writerow([t_text, x_text, f"{s:.6f}", int(f)])
    return len(rows)
