import numpy as np

from opsradar.web import anomaly_spans, sparkline


def test_sparkline_marks_anomalous_points() -> None:
    svg = sparkline(np.array([1.0, 2.0, 9.0, 2.0]), np.array([0, 0, 0.9, 0]), 0.5)
    assert svg.count("<circle") == 1 and "<polyline" in svg


def test_anomaly_spans_are_contiguous_runs() -> None:
    ts = np.arange(8, dtype=float)
    scores = np.array([0, 0.6, 0.7, 0, 0, 0.9, 0, 0.5])
    assert anomaly_spans(ts, scores, 0.5) == [[1.0, 2.0], [5.0, 5.0], [7.0, 7.0]]
