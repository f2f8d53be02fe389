"""Shared records, errors, settings, self-metrics and slot arrays. Every stage may import this."""

from opsradar.core._config import SETTINGS, Config, Setting, load_config, settings_markdown
from opsradar.core._errors import ConfigError, InputError, NotFound, OpsradarError, StoreError
from opsradar.core._memory import grown_rows, reserve_zeros
from opsradar.core._metrics import SelfMetrics
from opsradar.core._names import MAX_NAME_LENGTH, canonical, parse_tagged, split
from opsradar.core._records import (
    Event,
    FloatArray,
    IntArray,
    Point,
    PointBatch,
    PointSink,
    RejectCounter,
)
from opsradar.core._times import parse_timestamp

__all__ = [
    "MAX_NAME_LENGTH",
    "SETTINGS",
    "Config",
    "ConfigError",
    "Event",
    "FloatArray",
    "InputError",
    "IntArray",
    "NotFound",
    "OpsradarError",
    "Point",
    "PointBatch",
    "PointSink",
    "RejectCounter",
    "SelfMetrics",
    "Setting",
    "StoreError",
    "canonical",
    "grown_rows",
    "load_config",
    "parse_tagged",
    "parse_timestamp",
    "reserve_zeros",
    "settings_markdown",
    "split",
]
