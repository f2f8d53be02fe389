"""The routine deploy schedule: one deploy about every 40 simulated minutes.

Deploy ``k`` happens at ``k * DEPLOY_PERIOD`` plus a jitter of up to +-8 minutes drawn from
its own generator, so any window of time can be listed without generating the others.
"""

from __future__ import annotations

import math
from typing import Any

from opsradar.simulate._model import STREAM_DEPLOY, step_rng

DEPLOY_PERIOD = 2400.0
DEPLOY_JITTER = 480.0
_AUTHORS = ("alice", "bob", "chen", "dana", "emeka", "farah", "goran", "hana")
_CHANGES = (
    "bump dependencies",
    "tune cache TTLs",
    "add request tracing",
    "fix pagination bug",
    "refactor auth middleware",
    "update translations",
    "feature flag cleanup",
    "retry budget for upstream calls",
)


def deploy(seed: int, k: int, services: tuple[str, ...]) -> dict[str, Any]:
    """Routine deploy number ``k`` as an event dict (``what``, ``tags``, ``when``, ``data``)."""
    rng = step_rng(seed, STREAM_DEPLOY, k)
    when = k * DEPLOY_PERIOD + float(rng.uniform(-DEPLOY_JITTER, DEPLOY_JITTER))
    service = services[int(rng.integers(len(services)))]
    build = int(rng.integers(1000, 9000))
    sha = f"{int(rng.integers(16**7)):07x}"
    author = _AUTHORS[int(rng.integers(len(_AUTHORS)))]
    change = _CHANGES[int(rng.integers(len(_CHANGES)))]
    return {
        "what": f"deploy {service}#{build}",
        "tags": ["deploy", f"service={service}"],
        "when": round(when, 3),
        "data": f"{sha} by {author}: {change}",
    }


def deploys_between(
    seed: int, t0: float, t1: float, services: tuple[str, ...]
) -> list[dict[str, Any]]:
    """Routine deploys with ``t0 <= when < t1``, in time order."""
    first = math.floor((t0 - DEPLOY_JITTER) / DEPLOY_PERIOD)
    last = math.ceil((t1 + DEPLOY_JITTER) / DEPLOY_PERIOD)
    found = (deploy(seed, k, services) for k in range(first, last + 1))
    return [e for e in found if t0 <= e["when"] < t1]
