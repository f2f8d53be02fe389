"""Rank stage: episodes of anomalous series become trends, ordered by an explained severity."""

from opsradar.rank._family import family, scope_words
from opsradar.rank._trends import (
    DeployRef,
    Severity,
    Trend,
    build_trends,
    is_deploy,
    nearest_deploy,
)

__all__ = [
    "DeployRef",
    "Severity",
    "Trend",
    "build_trends",
    "family",
    "is_deploy",
    "nearest_deploy",
    "scope_words",
]
