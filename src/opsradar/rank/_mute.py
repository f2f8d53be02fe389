"""Why a series is set aside: a person's feedback, or a deploy that declared the change."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass

from opsradar.core import Event
from opsradar.detect import Episode
from opsradar.store import FeedbackRule

DECLARED_HORIZON = 7200.0  # a declared change covers episodes starting this long after the deploy


@dataclass(frozen=True)
class Mute:
    reason: str  # expected | not_interesting | declared
    by: str  # who gave the feedback, or the deploy that declared the change
    key: str  # r<rule id> or d<event id>: part of the muted trend's id
    text: str  # one readable line for the board
    rule_id: int | None = None
    until: float | None = None


def rule_mute(name: str, fam: str, rules: Sequence[FeedbackRule]) -> Mute | None:
    """The newest active rule covering the series ``name`` (of family ``fam``), if any."""
    for rule in rules:
        if (rule.scope == "series" and name in rule.targets) or (
            rule.scope == "family" and fam in rule.targets
        ):
            verdict = rule.verdict.replace("_", " ")
            text = f"marked {verdict} by {rule.who} for this {rule.scope}"
            return Mute(rule.verdict, rule.who, f"r{rule.id}", text, rule.id, rule.until)
    return None


def metric_matches(metric: str, name: str) -> bool:
    """A declared metric covers a series whose path is it, contains it as whole dotted words,
    or matches it as a glob.

    >>> metric_matches("cache.hits", "stats.counters.web.cache.hits.count")
    True
    >>> metric_matches("cache.hit", "stats.counters.web.cache.hits.count")
    False
    >>> metric_matches("hosts.web-*.cpu.*", "hosts.web-001.cpu.user;dc=ams")
    True
    """
    path = name.partition(";")[0]
    if any(c in metric for c in "*?["):
        return fnmatch.fnmatchcase(path, metric)
    return f".{metric}." in f".{path}."


def direction_matches(change: str, ep: Episode) -> bool:
    change = change.lower()
    if change in ("up", "increase", "rise"):
        return ep.kind == "new" or (ep.kind != "stopped" and ep.observed > ep.expected)
    if change in ("down", "decrease", "drop"):
        return ep.kind == "stopped" or (ep.kind != "new" and ep.observed < ep.expected)
    return True  # "any", "change", ""


def declared_mute(ep: Episode, name: str, deploys: Sequence[Event]) -> Mute | None:
    """The latest deploy before ``ep`` that declared this change (newest-first ``deploys``)."""
    for ev in deploys:
        gap = ep.start - ev.ts
        if gap < -60.0 or gap > DECLARED_HORIZON:
            continue
        for metric, change in ev.expect:
            if metric and metric_matches(metric, name) and direction_matches(change, ep):
                text = f"declared by {ev.what}: {metric} {change or 'changes'}"
                return Mute("declared", ev.what, f"d{ev.id}", text)
    return None
