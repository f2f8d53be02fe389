"""parse_points_json: the POST /api/v1/points body."""

from __future__ import annotations

import json

import pytest

from opsradar.core import InputError
from opsradar.ingest import parse_points_json


def _body(points: object) -> bytes:
    return json.dumps({"points": points}).encode()


def test_parse() -> None:
    batch = parse_points_json(
        _body(
            [
                {"name": "cpu.user", "value": 1.5, "ts": 1700000000, "labels": {"host": "a"}},
                {"name": "mem", "value": 2},
            ]
        ),
        clock=lambda: 99.0,
    )
    assert batch.protocol == "http"
    assert batch.points() == [("cpu.user;host=a", 1700000000.0, 1.5), ("mem", 99.0, 2.0)]


def test_empty_list_is_an_empty_batch() -> None:
    assert len(parse_points_json(_body([]))) == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{", "not valid JSON"),
        (b"\xff", "not valid JSON"),
        (b"[]", '"points" list'),
        (b'{"points": {}}', '"points" list'),
        (_body([{"name": "a", "value": 1}, 5]), "points[1]: must be an object"),
        (_body([{"value": 1}]), "points[0].name: missing"),
        (_body([{"name": "a"}]), "points[0].value: missing"),
        (_body([{"name": "a", "value": "1"}]), "points[0].value: not a number"),
        (_body([{"name": "a", "value": True}]), "points[0].value: not a number"),
        (b'{"points": [{"name": "a", "value": NaN}]}', "points[0].value: not a finite"),
        (_body([{"name": "a", "value": 1, "ts": -5}]), "points[0].ts"),
        (_body([{"name": "a..b", "value": 1}]), "points[0].name: invalid"),
        (_body([{"name": "a", "value": 1, "labels": {"h": 1}}]), "points[0].labels"),
        (_body([{"name": "a", "value": 1, "labels": {"h": ""}}]), "points[0].name: invalid label"),
    ],
)
def test_bad_body_rejects_whole_request(body: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_points_json(body)
