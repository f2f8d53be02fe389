"""Fixtures for ingest tests: a recording sink and fresh self-metrics per test."""

from __future__ import annotations

import pytest
from ingest_support import RecordingSink

from opsradar.core import SelfMetrics


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
def metrics() -> SelfMetrics:
    return SelfMetrics()
