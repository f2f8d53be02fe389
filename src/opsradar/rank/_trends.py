"""Trends: one item per real change, ordered by a severity that explains itself."""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from opsradar.core import Event
from opsradar.detect import Episode
from opsradar.rank._family import entity, family, scope_words

GROUP_GAP = 600.0  # episodes of one family starting within this many seconds are one trend
MIN_SILENCE = 90.0  # seconds without a point before a stopped series is shown
TOGETHER = 60.0  # episodes of one host and kind starting this close are one trend
DEPLOY_HORIZON = 7200.0  # a deploy further back than this is not "the nearest deploy"
RECENCY_HALF_LIFE = 1800.0


@dataclass(frozen=True)
class DeployRef:
    id: int | None
    what: str
    ts: float
    gap: float  # seconds from the deploy to the trend's start


@dataclass(frozen=True)
class Severity:
    """The parts of a trend's score, each in [0, 1], and their product."""

    score: float
    size: float
    duration: float
    breadth: float
    recency: float
    total: float


@dataclass(frozen=True)
class Trend:
    id: str
    family: str
    kind: str
    series: tuple[str, ...]  # most telling first
    start: float
    last: float
    open: bool
    expected: float
    observed: float
    deviation: float  # |observed - expected| in units of the series' usual spread
    severity: Severity
    deploy: DeployRef | None
    sentence: str = ""
    slots: tuple[int, ...] = field(default=(), compare=False)


def is_deploy(event: Event) -> bool:
    return "deploy" in event.tags or event.what.lower().startswith("deploy")


def nearest_deploy(start: float, names: Sequence[str], events: Sequence[Event]) -> DeployRef | None:
    """The latest deploy at or before ``start``, preferring one whose scope tags match."""
    words: set[str] = set()
    for name in names[:20]:
        words |= scope_words(name)
    best: tuple[int, float, Event] | None = None
    for event in events:
        gap = start - event.ts
        if not is_deploy(event) or gap < -60.0 or gap > DEPLOY_HORIZON:
            continue
        scopes = {t.split("=", 1)[1] for t in event.tags if "=" in t}
        in_scope = 1 if scopes & words else 0
        rank = (in_scope, -abs(gap))
        if best is None or rank > (best[0], best[1]):
            best = (in_scope, -abs(gap), event)
    if best is None:
        return None
    ev = best[2]
    return DeployRef(ev.id, ev.what, ev.ts, max(0.0, start - ev.ts))


def _severity(eps: Sequence[Episode], now: float) -> tuple[Severity, float]:
    top = max(eps, key=lambda e: e.peak_score)
    deviation = max(abs(e.observed - e.expected) / max(e.scale, 1e-9) for e in eps)
    if top.kind == "stopped":
        deviation = 0.0
    size = 1.0 if top.kind == "stopped" else min(1.0, math.log1p(deviation) / math.log1p(20.0))
    start = min(e.start for e in eps)
    last = max(e.last for e in eps)
    duration = min(1.0, (last - start) / 900.0)
    breadth = min(1.0, math.log2(1 + len(eps)) / math.log2(1 + 50))
    recency = 0.5 ** (max(0.0, now - last) / RECENCY_HALF_LIFE)
    score = max(e.peak_score for e in eps)
    total = 100.0 * score * recency * (0.55 + 0.25 * size + 0.1 * duration + 0.1 * breadth)
    return Severity(score, size, duration, breadth, recency, round(total, 2)), deviation


def build_trends(
    episodes: Sequence[Episode],
    names: Sequence[str],
    events: Sequence[Event],
    now: float,
) -> list[Trend]:
    """Group episodes into trends, score each, order by severity (stable for unchanged data).

    Two episodes are one trend when they are of one family (a timer's statistics, a metric
    across numbered hosts) and start within ``GROUP_GAP`` of each other, or when they are of
    one entity (the same host) and the same kind and start within ``TOGETHER`` seconds.
    """
    eps = sorted(
        (e for e in episodes if e.slot < len(names) and _matters(e, now)),
        key=lambda e: (e.start, e.slot),
    )
    parent = list(range(len(eps)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    last_seen: dict[tuple[str, ...], tuple[int, float]] = {}
    for i, ep in enumerate(eps):
        name = names[ep.slot]
        keys: list[tuple[tuple[str, ...], float]] = [(("f", family(name)), GROUP_GAP)]
        ent = entity(name)
        if ent is not None:
            keys.append((("e", ent, ep.kind), TOGETHER))
        for key, gap in keys:
            prev = last_seen.get(key)
            if prev is not None and ep.start - prev[1] <= gap:
                parent[find(i)] = find(prev[0])
            last_seen[key] = (i, ep.start)
    groups: dict[int, list[Episode]] = defaultdict(list)
    for i, ep in enumerate(eps):
        groups[find(i)].append(ep)
    trends = [_trend(group, names, events, now) for group in groups.values()]
    trends.sort(key=lambda t: (-t.severity.total, t.id))
    return trends


def _matters(ep: Episode, now: float) -> bool:
    """A series silent for less than ``MIN_SILENCE`` is late, not stopped: not yet a trend."""
    return ep.kind != "stopped" or now - ep.start >= MIN_SILENCE


def _label(series: Sequence[str]) -> str:
    fams = {family(n) for n in series}
    if len(fams) == 1:
        return fams.pop()
    ents = {entity(n) for n in series}
    if len(ents) == 1 and None not in ents:
        return f"{ents.pop()}.*"
    return family(series[0])


def _trend(eps: list[Episode], names: Sequence[str], events: Sequence[Event], now: float) -> Trend:
    eps = sorted(
        eps, key=lambda e: (-e.peak_score, -abs(e.observed - e.expected) / max(e.scale, 1e-9))
    )
    series = tuple(dict.fromkeys(names[e.slot] for e in eps))
    fam = _label(series)
    severity, deviation = _severity(eps, now)
    start = min(e.start for e in eps)
    top = eps[0]
    key = f"{fam}@{int(start // GROUP_GAP)}"
    trend = Trend(
        id=hashlib.sha1(key.encode()).hexdigest()[:12],
        family=fam,
        kind=top.kind,
        series=series,
        start=start,
        last=max(e.last for e in eps),
        open=any(e.open for e in eps),
        expected=top.expected,
        observed=top.observed,
        deviation=deviation,
        severity=severity,
        deploy=nearest_deploy(top.start, series, events),
        slots=tuple(e.slot for e in eps),
    )
    return _with_sentence(trend, now)


def _fmt_duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _fmt_value(x: float) -> str:
    return f"{x:.3g}"


def _change(t: Trend) -> str:
    if t.expected > 0 and t.observed > 0:
        ratio = t.observed / t.expected
        if ratio >= 1.5:
            return f"{ratio:.1f}× its usual level"
        if ratio <= 0.67:
            return f"down to {ratio:.2f}× its usual level"
        return f"{(ratio - 1) * 100:+.0f}% from its usual {_fmt_value(t.expected)}"
    return f"{_fmt_value(t.observed)} against a usual {_fmt_value(t.expected)}"


def _with_sentence(t: Trend, now: float) -> Trend:
    lead = t.series[0]
    if t.kind == "stopped":
        subject = t.family if len(t.series) > 1 else lead
        what = f"{subject} stopped reporting {_fmt_duration(now - t.start)} ago"
    else:
        duration = t.last - t.start
        lasting = f" for {_fmt_duration(duration)}" if duration >= 60 else ""
        what = f"{lead} {_change(t)} ({t.deviation:.1f} σ, {t.kind.replace('_', ' ')}){lasting}"
    if len(t.series) > 1:
        what += f" on {len(t.series)} series"
    if t.deploy is not None:
        what += f"; started {_fmt_duration(t.deploy.gap)} after {t.deploy.what}"
    state = "ongoing" if t.open else f"ended {_fmt_duration(now - t.last)} ago"
    sentence = f"{what}; {state}."
    return Trend(**{**t.__dict__, "sentence": sentence})
