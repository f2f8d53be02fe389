"""Rank stage: episodes of anomalous series become trends, ordered by an explained severity."""

from opsradar.rank._explain import fmt_duration, size_help
from opsradar.rank._family import describe, family, scope_words, service
from opsradar.rank._history import EpisodeHistory
from opsradar.rank._mute import Mute, metric_matches
from opsradar.rank._ranker import Change, Impact, Ranker
from opsradar.rank._trends import (
    DeployRef,
    Severity,
    Trend,
    build_trends,
    is_deploy,
    nearest_deploy,
)
from opsradar.rank._windows import Window, change_scores, window_stats

__all__ = [
    "Change",
    "DeployRef",
    "EpisodeHistory",
    "Impact",
    "Mute",
    "Ranker",
    "Severity",
    "Trend",
    "Window",
    "build_trends",
    "change_scores",
    "describe",
    "family",
    "fmt_duration",
    "is_deploy",
    "metric_matches",
    "nearest_deploy",
    "scope_words",
    "service",
    "size_help",
    "window_stats",
]
