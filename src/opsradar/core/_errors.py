"""One exception tree for opsradar.

    OpsradarError
    ├── ConfigError          bad setting, unknown registry name (fails at start-up)
    ├── InputError           bad data from a client or a file (4xx / CLI exit 2)
    │   └── NotFound         unknown series, trend, event (404)
    └── StoreError           the durable store failed (disk full, read-only, corrupt)

Boundaries translate with ``raise ... from exc``; nothing below a listener lets an
exception escape for one bad line or one bad series.
"""

from __future__ import annotations


class OpsradarError(Exception):
    """Base of every error opsradar raises on purpose."""


class ConfigError(OpsradarError):
    """A setting is invalid or names something that does not exist."""


class InputError(OpsradarError):
    """Input from a client or a file is malformed; the message says how."""


class NotFound(InputError):
    """The named series, trend or event does not exist."""


class StoreError(OpsradarError):
    """The durable store could not complete an operation."""
