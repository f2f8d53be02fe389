"""detect: score every point of every series as it arrives, and track anomaly episodes.

Public surface::

    Engine(detector=None, policy=None, stale_after=5.0)
        .score(slots, ts, values) -> scores in [0, 1]
        .episodes(now, keep=3600.0) -> list[Episode]
        .stale(now) -> slots that stopped reporting
        .state_dict() / .load_state_dict(d)
    Policy(threshold=0.5).decide(scores)
    DETECTORS / make_detector(name)
    save_checkpoint(engine, path) / load_checkpoint(path, engine)
    save_state(engine.state_dict(), path): the same, for state copied earlier
    detect_csv(infile, outfile, threshold=0.5)
"""

from opsradar.detect._checkpoint import load_checkpoint, save_checkpoint, save_state
from opsradar.detect._csv import detect_csv
from opsradar.detect._detector import (
    DEFAULT_DETECTOR,
    DETECTORS,
    KIND_NAMES,
    Detector,
    OpsradarDetector,
    Scored,
    make_detector,
)
from opsradar.detect._engine import Engine, Episode, Policy

__all__ = [
    "DEFAULT_DETECTOR",
    "DETECTORS",
    "KIND_NAMES",
    "Detector",
    "Engine",
    "Episode",
    "OpsradarDetector",
    "Policy",
    "Scored",
    "detect_csv",
    "load_checkpoint",
    "make_detector",
    "save_checkpoint",
    "save_state",
]
