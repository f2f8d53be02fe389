"""The compiled path index: the bytes decide, never the hash alone."""

from __future__ import annotations

import numpy as np

from opsradar.ingest._graphite import GraphiteParser
from opsradar.ingest._graphite_scan import scan
from opsradar.ingest._path_index import MAX_PROBE, PathIndex


def _rows(data: bytes, hashes: list[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    scanned = scan(data, 0.0)
    assert scanned is not None
    paths = scanned.paths.copy()
    if hashes is not None:
        paths[:, 2] = hashes
    return np.frombuffer(data, np.uint8), paths


def test_known_paths_are_found_by_bytes() -> None:
    buf, paths = _rows(b"a.b 1 1\nc 1 1\na.b 2 2\n")
    index = PathIndex()
    assert index.find(buf, paths)[1] == 3
    assert index.add(buf, paths[[0, 1]], ["a.b", "c"])
    ids, missing = index.find(buf, paths)
    assert missing == 0 and [index.names[i] for i in ids] == ["a.b", "c", "a.b"]


def test_equal_hashes_of_different_paths_never_mix() -> None:
    buf, paths = _rows(b"one 1 1\ntwo 1 1\nsix 1 1\n", hashes=[7, 7, 7])
    index = PathIndex()
    assert index.add(buf, paths[[0, 1]], ["one", "two"])
    ids, missing = index.find(buf, paths)
    assert ids.tolist() == [0, 1, -1] and missing == 1  # "six": same hash, other bytes


def test_a_flood_of_colliding_hashes_stays_on_the_python_path() -> None:
    names = [f"n{i}" for i in range(MAX_PROBE + 5)]
    data = "".join(f"{n} 1 1\n" for n in names).encode()
    buf, paths = _rows(data, hashes=[3] * len(names))
    index = PathIndex()
    assert not index.add(buf, paths, names)  # only MAX_PROBE fit in reach of one slot
    assert len(index) == MAX_PROBE
    ids, missing = index.find(buf, paths)
    assert missing == 5 and ids[:MAX_PROBE].tolist() == list(range(MAX_PROBE))


def test_the_index_stays_bounded() -> None:
    index = PathIndex(limit=4)
    buf, paths = _rows(b"a 1 1\nb 1 1\nc 1 1\n")
    assert index.add(buf, paths, ["a", "b", "c"])
    buf, paths = _rows(b"d 1 1\ne 1 1\n")
    assert not index.add(buf, paths, ["d", "e"])  # past the limit: cleared, refills later
    assert len(index) == 0
    assert index.add(buf, paths, ["d", "e"])


def test_the_index_grows_past_its_first_table() -> None:
    names = [f"m.{i}" for i in range(5000)]
    data = "".join(f"{n} 1 1\n" for n in names).encode()
    parser = GraphiteParser()
    assert parser.parse(data).names == names
    assert parser.parse(data).names == names
    assert len(parser._index) == 5000
