"""Present stage: the HTTP API, the pages and /metrics. Reads only (ingest goes to the sink)."""

from opsradar.web._app import create_app
from opsradar.web._auth import Access, TokenAuth
from opsradar.web._http import WebContext
from opsradar.web._payloads import anomaly_spans, parse_event, parse_when
from opsradar.web._sparkline import sparkline

__all__ = [
    "Access",
    "TokenAuth",
    "WebContext",
    "anomaly_spans",
    "create_app",
    "parse_event",
    "parse_when",
    "sparkline",
]
