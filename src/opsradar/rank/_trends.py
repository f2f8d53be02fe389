"""Trends: one item per real change, ordered by a severity that explains itself."""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from opsradar.core import Event
from opsradar.detect import Episode
from opsradar.rank._explain import sentence
from opsradar.rank._family import entity, family, scope_words, service, telling
from opsradar.rank._history import EpisodeHistory
from opsradar.rank._mute import Mute, declared_mute, rule_mute
from opsradar.store import FeedbackRule

GROUP_GAP = 600.0  # a trend's id is stable within this many seconds of its start
FAMILY_GAP = 180.0  # episodes of one family starting this close (chained) are one trend: a
# fleet-wide change reaches its hosts within a few flushes; unrelated blips of the same metric
# minutes apart on other hosts are not the same change
MIN_SILENCE = 90.0  # seconds without a point before a stopped series is shown
TOGETHER = 60.0  # episodes of one host and kind, or of one service, starting this close
# an episode of the same series and kind starting this soon after the last one ended is
# the same trend: a change that wavers across the alarm level (the return from a block,
# alarmed by the value channels and again ten minutes later by the likelihood stage)
SAME_SERIES_GAP = 1800.0
DEPLOY_HORIZON = 7200.0  # a deploy further back than this is not "the nearest deploy"
RECENCY_HALF_LIFE = 1800.0
MUTED_FACTOR = 0.05  # feedback and declared changes keep a trend, far down


@dataclass(frozen=True)
class DeployRef:
    id: int | None
    what: str
    ts: float
    gap: float  # seconds from the deploy to the trend's start
    in_scope: bool = True


@dataclass(frozen=True)
class Severity:
    """The parts of a trend's score, each in [0, 1], and the total they make (0-100).

    ``total = 100 · score · recency · feedback · (0.45 + 0.2 size + 0.1 duration
    + 0.1 breadth + 0.15 rarity)``.
    """

    score: float  # the detector's confidence at the most deviant point
    size: float  # how far from the series' usual level for this time of day, log-scaled
    duration: float  # how long it has lasted, saturating at 15 min
    breadth: float  # how many series move together, log-scaled, saturating at 50
    recency: float  # halves every 30 min since the last anomalous point
    total: float
    rarity: float = 1.0  # 1 for a series with no earlier anomaly this week
    feedback: float = 1.0  # MUTED_FACTOR when feedback or a deploy says it is expected


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
    hosts: int = 0  # distinct numbered hosts among the series
    prior: int | None = None  # earlier episodes of the lead series this week (None: unknown)
    mute: Mute | None = None


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
    return DeployRef(ev.id, ev.what, ev.ts, max(0.0, start - ev.ts), bool(best[0]))


def _deviation(e: Episode) -> float:
    if e.kind in ("stopped", "new"):
        return 0.0
    return abs(e.observed - e.expected) / max(e.scale, 1e-9)


def _severity(
    eps: Sequence[Episode], now: float, prior: int | None, factor: float
) -> tuple[Severity, float]:
    top = eps[0]
    deviation = max(_deviation(e) for e in eps)
    if top.kind == "stopped":
        size = 1.0
    elif top.kind == "new":
        size = 0.5
    else:
        size = min(1.0, math.log1p(deviation) / math.log1p(20.0))
    start = min(e.start for e in eps)
    last = max(e.last for e in eps)
    duration = min(1.0, (last - start) / 900.0)
    breadth = min(1.0, math.log2(1 + len(eps)) / math.log2(1 + 50))
    recency = 0.5 ** (max(0.0, now - last) / RECENCY_HALF_LIFE)
    rarity = 1.0 if prior is None else 1.0 / math.sqrt(1.0 + prior)
    score = max(e.peak_score for e in eps)
    mix = 0.45 + 0.2 * size + 0.1 * duration + 0.1 * breadth + 0.15 * rarity
    total = 100.0 * score * recency * factor * mix
    parts = Severity(score, size, duration, breadth, recency, round(total, 2), rarity, factor)
    return parts, deviation


def build_trends(
    episodes: Sequence[Episode],
    names: Sequence[str],
    events: Sequence[Event],
    now: float,
    rules: Sequence[FeedbackRule] = (),
    history: EpisodeHistory | None = None,
) -> list[Trend]:
    """Group episodes into trends, score each, order by severity (stable for unchanged data).

    Two episodes are one trend when they are of one family (a timer's statistics, a metric
    across numbered hosts) and start within ``FAMILY_GAP`` of each other, when they are of
    one entity (the same host) and the same kind and start within ``TOGETHER`` seconds,
    when they are of one service and start within ``TOGETHER`` seconds of the first, or
    when they are of one series and kind and the later starts within ``SAME_SERIES_GAP``
    of the end of the earlier.

    Series under an active feedback ``rules`` entry, or whose change a preceding deploy
    declared (``Event.expect``), form their own trends, weighted by ``MUTED_FACTOR``; a
    declared change is dropped as soon as it ends.
    """
    deploys = sorted((e for e in events if is_deploy(e) and e.expect), key=lambda e: -e.ts)
    active = [r for r in rules if r.active(now)]
    buckets: dict[Mute | None, list[Episode]] = defaultdict(list)
    for ep in episodes:
        if ep.slot >= len(names) or not _matters(ep, now):
            continue
        name = names[ep.slot]
        mute = rule_mute(name, family(name), active) or declared_mute(ep, name, deploys)
        if mute is not None and mute.reason == "declared" and not ep.open:
            continue
        buckets[mute].append(ep)
    trends = [
        _trend(group, names, events, now, mute, history)
        for mute, eps in buckets.items()
        for group in _group(eps, names)
    ]
    trends.sort(key=lambda t: (-t.severity.total, t.id))
    return trends


def _group(episodes: list[Episode], names: Sequence[str]) -> list[list[Episode]]:
    eps = sorted(episodes, key=lambda e: (e.start, e.slot))
    parent = list(range(len(eps)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    chained: dict[tuple[str, ...], tuple[int, float]] = {}  # key -> last episode
    anchored: dict[tuple[str, str], tuple[int, float]] = {}  # service -> first of its burst
    repeated: dict[tuple[int, str], tuple[int, float]] = {}  # series, kind -> its last end
    for i, ep in enumerate(eps):
        name = names[ep.slot]
        rkey = (ep.slot, ep.kind)
        before = repeated.get(rkey)
        if before is not None and ep.start - before[1] <= SAME_SERIES_GAP:
            parent[find(i)] = find(before[0])
        repeated[rkey] = (i, max(ep.last, before[1]) if before is not None else ep.last)
        kind_class = ep.kind if ep.kind in ("stopped", "new") else "change"
        # a stop, a first appearance and a change of value are never one trend
        keys: list[tuple[tuple[str, ...], float]] = [(("f", family(name), kind_class), FAMILY_GAP)]
        ent = entity(name)
        if ent is not None:
            keys.append((("e", ent, ep.kind), TOGETHER))
        for key, gap in keys:
            prev = chained.get(key)
            if prev is not None and ep.start - prev[1] <= gap:
                parent[find(i)] = find(prev[0])
            chained[key] = (i, ep.start)
        svc = service(name)
        if svc is not None:
            skey = (svc, kind_class)
            anchor = anchored.get(skey)
            if anchor is not None and ep.start - anchor[1] <= TOGETHER:
                parent[find(i)] = find(anchor[0])
            else:
                anchored[skey] = (i, ep.start)
    groups: dict[int, list[Episode]] = defaultdict(list)
    for i, ep in enumerate(eps):
        groups[find(i)].append(ep)
    return list(groups.values())


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


def _trend(
    eps: list[Episode],
    names: Sequence[str],
    events: Sequence[Event],
    now: float,
    mute: Mute | None,
    history: EpisodeHistory | None,
) -> Trend:
    eps = sorted(
        eps,
        key=lambda e: (-round(e.peak_score, 2), telling(names[e.slot]), -_deviation(e), e.slot),
    )
    series = tuple(dict.fromkeys(names[e.slot] for e in eps))
    fam = _label(series)
    top = eps[0]
    prior = None if history is None else history.prior(series[0], top.start)
    severity, deviation = _severity(eps, now, prior, 1.0 if mute is None else MUTED_FACTOR)
    start = min(e.start for e in eps)
    key = f"{fam}@{int(start // GROUP_GAP)}" + ("" if mute is None else f"~{mute.key}")
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
        hosts=len({h for h in map(entity, series) if h is not None}),
        prior=prior,
        mute=mute,
    )
    return replace(trend, sentence=sentence(trend, now))
