"""Prometheus text exposition format (0.0.4, and the OpenMetrics lines it shares).

::

    # HELP http_requests_total Requests served.
    # TYPE http_requests_total counter
    http_requests_total{method="post",code="200"} 1027 1395066363000
    rpc_duration_seconds{quantile="0.5"} 4773
    request_seconds_bucket{le="+Inf"} 144320

Every sample line becomes one point: counters, gauges, untyped, and the ``_bucket{le=…}``,
``_sum``, ``_count`` and ``{quantile=…}`` samples of histograms and summaries are series of
their own (``request_seconds_bucket;le=+Inf``). Label values unescape ``\\\\``, ``\\"`` and
``\\n``; the optional timestamp is in milliseconds (absent: the scrape time). OpenMetrics
exemplars (``# {…} …`` after the value) are ignored and ``# EOF`` ends the input.

Bad lines are dropped and counted by reason — ``bad_line`` (syntax), ``bad_name`` (a name
or label value opsradar cannot store), ``bad_value`` (NaN or ±Inf, also counted: a summary
with no observations reports NaN quantiles), ``bad_timestamp`` — and the rest kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from opsradar.core import InputError, canonical
from opsradar.ingest._graphite import Parsed

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\\n]|\\.)*)"\s*(,?)\s*')
_ESCAPE = re.compile(r"\\(.)")
_UNESCAPE = {"n": "\n", "\\": "\\", '"': '"'}
TYPES = frozenset({"counter", "gauge", "histogram", "summary", "untyped", "unknown"})


@dataclass(slots=True)
class Exposition(Parsed):
    """Parsed samples, plus the ``# TYPE`` and ``# HELP`` of each metric family."""

    types: dict[str, str] = field(default_factory=dict)
    help: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Context:
    now: float
    extra: dict[str, str] | None
    seconds: bool


def parse_exposition(
    text: str, now: float, extra: dict[str, str] | None = None, *, openmetrics: bool = False
) -> Exposition:
    """Parse exposition text; samples without a timestamp get ``now``.

    ``extra`` labels (such as ``instance``) are added to every sample that lacks them.
    With ``openmetrics`` timestamps are in seconds (the 0.0.4 text format uses milliseconds).

    >>> e = parse_exposition('# TYPE up gauge\\nup{job="a b"} 1\\nx_total 2 5000\\n', 9.0)
    >>> e.names, list(e.ts), list(e.values), e.types, e.rejects
    (['x_total'], [5.0], [2.0], {'up': 'gauge'}, {'bad_name': 1})
    """
    out = Exposition()
    ctx = _Context(now, extra, openmetrics)
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        if line[0] == "#":
            if line == "# EOF":
                break
            _comment(line, out)
            continue
        reason = _sample(line, ctx, out)
        if reason is not None:
            out.reject(reason)
    return out


def _comment(line: str, out: Exposition) -> None:
    parts = line.split(None, 3)
    if len(parts) < 3 or parts[1] not in ("HELP", "TYPE"):
        return  # any other comment is allowed and ignored
    name = parts[2]
    rest = parts[3] if len(parts) > 3 else ""
    if not _NAME.fullmatch(name):
        out.reject("bad_line")
    elif parts[1] == "TYPE":
        if rest.strip() in TYPES:
            out.types[name] = rest.strip()
        else:
            out.reject("bad_line")
    else:
        out.help[name] = rest.replace("\\n", "\n").replace("\\\\", "\\")


def _sample(line: str, ctx: _Context, out: Exposition) -> str | None:
    match = _NAME.match(line)
    if match is None:
        return "bad_line"
    path, pos = match.group(), match.end()
    labels: dict[str, str] = {}
    brace = line.find("{", pos)
    if brace >= 0 and not line[pos:brace].strip():
        pos = _labels(line, brace + 1, labels)
        if pos < 0:
            return "bad_line"
    rest = line[pos:]
    if rest and not rest[0].isspace():
        return "bad_line"
    fields = rest.split("#", 1)[0].split()  # drop an OpenMetrics exemplar
    if not 1 <= len(fields) <= 2:
        return "bad_line"
    value = _number(fields[0])
    if value is None or value - value != 0:
        return "bad_value"
    ts = ctx.now
    if len(fields) == 2:
        raw_ts = _number(fields[1])
        if raw_ts is None:
            return "bad_timestamp"
        ts = raw_ts if ctx.seconds else raw_ts / 1000.0
    if not 0 < ts < 1e11:
        return "bad_timestamp"
    if ctx.extra:
        labels = {**ctx.extra, **labels}
    try:
        name = canonical(path, {k: v for k, v in labels.items() if v})
    except InputError:
        return "bad_name"
    out.names.append(name)
    out.ts.append(ts)
    out.values.append(value)
    return None


def _number(text: str) -> float | None:
    if "_" in text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _labels(line: str, pos: int, labels: dict[str, str]) -> int:
    """Parse ``k="v",…}`` from ``pos``; return the position after ``}``, or -1."""
    while (match := _LABEL.match(line, pos)) is not None:
        key, raw, comma = match.groups()
        labels[key] = _ESCAPE.sub(_unescape, raw)
        pos = match.end()
        if not comma:
            break
    while pos < len(line) and line[pos] in " \t":
        pos += 1
    return pos + 1 if line.startswith("}", pos) else -1


def _unescape(match: re.Match[str]) -> str:
    return _UNESCAPE.get(match.group(1), match.group())
