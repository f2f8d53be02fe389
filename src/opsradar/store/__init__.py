"""Store stage: the hot window per series and durable history in DuckDB."""

from opsradar.store._durable import Durable
from opsradar.store._feedback import (
    FEEDBACK_FILE,
    SCOPES,
    VERDICTS,
    FeedbackLog,
    FeedbackRule,
    Visit,
)
from opsradar.store._hot import HotWindow
from opsradar.store._limits import Refusals, SeriesLimits
from opsradar.store._store import DB_FILE, Retention, SeriesData, Store

__all__ = [
    "DB_FILE",
    "FEEDBACK_FILE",
    "SCOPES",
    "VERDICTS",
    "Durable",
    "FeedbackLog",
    "FeedbackRule",
    "HotWindow",
    "Refusals",
    "Retention",
    "SeriesData",
    "SeriesLimits",
    "Store",
    "Visit",
]
