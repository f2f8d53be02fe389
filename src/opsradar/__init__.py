"""opsradar: metrics in, anomalies scored as they arrive, the few trends that matter out."""

__version__ = "0.1.0"
