"""Checkpoint files: what is saved loads back bit for bit; anything less than a whole file is
an ``InputError`` (the server then starts cold), never a wrong state."""

from __future__ import annotations

import json
import os
import resource
import signal
import struct
from pathlib import Path

import numpy as np
import pytest

from opsradar.core import InputError, reserve_zeros
from opsradar.detect import Engine, load_checkpoint, save_checkpoint, save_state
from opsradar.detect._checkpoint import ALIGN, CHUNK, MAGIC, load_state


def _state() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    return {
        "big": rng.normal(size=(CHUNK // 8 + 1000, 3)),  # spans several staging buffers
        "ints": np.arange(10, dtype=np.int32),
        "words": rng.integers(0, 2**63, size=(5, 4), dtype=np.uint64),
        "strided": np.arange(20.0).reshape(4, 5)[:, ::2],  # not contiguous
        "empty": np.zeros((0, 7)),
        "scalar": np.array(2.5),
        "flags": np.array([True, False]),
    }


def _engine() -> Engine:
    eng = Engine()
    for t in range(50):
        eng.score(np.arange(30), np.full(30, 10.0 * t), np.sin(np.arange(30) + t))
    return eng


@pytest.mark.parametrize("direct", [True, False])
def test_arrays_come_back_bit_for_bit(tmp_path: Path, direct: bool) -> None:
    state = _state()
    save_state(state, tmp_path / "s.ckpt", direct=direct)
    got = load_state(tmp_path / "s.ckpt")
    assert list(got) == list(state)
    for name, arr in state.items():
        assert got[name].dtype == arr.dtype and got[name].shape == arr.shape, name
        np.testing.assert_array_equal(got[name], arr)
    assert [p.name for p in tmp_path.iterdir()] == ["s.ckpt"]  # no temporary file left


def test_direct_and_page_cache_files_are_identical(tmp_path: Path) -> None:
    save_state(_state(), tmp_path / "a", direct=True)
    save_state(_state(), tmp_path / "b", direct=False)
    data = (tmp_path / "a").read_bytes()
    assert data == (tmp_path / "b").read_bytes()
    assert data.startswith(MAGIC) and data.endswith(MAGIC)


def _page_aligned(n: int, seed: int) -> np.ndarray:
    """An array on page boundaries, as the detector's reserved state is: written straight
    from its memory where the file takes O_DIRECT."""
    out = reserve_zeros((n,), np.float64)
    assert out is not None and out.ctypes.data % ALIGN == 0
    out[:] = np.random.default_rng(seed).normal(size=n)
    return out


def test_page_aligned_arrays_come_back_bit_for_bit(tmp_path: Path) -> None:
    state = {"head": np.arange(5), "big": _page_aligned(2 * CHUNK // 8 + 1000, 1)}
    state |= {"exact": _page_aligned(CHUNK // 8, 2), "tail": np.arange(7.0)}
    save_state(state, tmp_path / "a", direct=True)
    save_state(state, tmp_path / "b", direct=False)
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()
    got = load_state(tmp_path / "a")
    for name, arr in state.items():
        np.testing.assert_array_equal(got[name], arr, err_msg=name)


def test_an_engine_round_trips(tmp_path: Path) -> None:
    eng = _engine()
    save_checkpoint(eng, tmp_path / "e.ckpt")
    restored = load_checkpoint(tmp_path / "e.ckpt")
    ts, values = np.full(30, 600.0), np.cos(np.arange(30.0))
    np.testing.assert_array_equal(restored.score(np.arange(30), ts, values),
                                  eng.score(np.arange(30), ts, values))  # fmt: skip


def test_every_truncation_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "e.ckpt"
    save_checkpoint(_engine(), path)
    whole = path.read_bytes()
    cuts = sorted({0, 1, len(MAGIC), ALIGN, ALIGN + 1, len(whole) // 2, len(whole) - 1})
    for cut in cuts:
        path.write_bytes(whole[:cut])
        with pytest.raises(InputError):
            load_checkpoint(path, Engine())


def test_a_damaged_byte_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "e.ckpt"
    save_checkpoint(_engine(), path)
    data = bytearray(path.read_bytes())
    data[ALIGN + 100] ^= 0x10  # inside the first array
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="CRC"):
        load_checkpoint(path, Engine())


@pytest.mark.parametrize(
    "content", [b"", b"PK\x03\x04 an npz from an older version", os.urandom(5000)]
)
def test_other_files_are_input_errors(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.ckpt"
    path.write_bytes(content)
    with pytest.raises(InputError):
        load_checkpoint(path, Engine())


def _with_index(path: Path, edit: dict[str, object]) -> None:
    """Rewrite the first index entry of a valid file (footer kept consistent)."""
    data = path.read_bytes()
    at, length, magic = struct.unpack("<QQ8s", data[-24:])
    index = json.loads(data[at : at + length])
    index[0].update(edit)
    body = json.dumps(index).encode()
    path.write_bytes(data[:at] + body + struct.pack("<QQ8s", at, len(body), magic))


@pytest.mark.parametrize(
    "edit",
    [{"dtype": "|O"}, {"dtype": "<U4"}, {"offset": 1 << 40}, {"shape": [-1]}, {"shape": "x"},
     {"shape": [1 << 40]}, {"crc32": 0}],
)  # fmt: skip
def test_a_forged_index_is_an_input_error(tmp_path: Path, edit: dict[str, object]) -> None:
    path = tmp_path / "e.ckpt"
    save_state({"a": np.arange(100.0)}, path)
    _with_index(path, edit)
    with pytest.raises(InputError):
        load_checkpoint(path, Engine())


def test_a_failed_save_keeps_the_last_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "e.ckpt"
    save_state({"a": np.arange(3.0)}, path)
    with pytest.raises(TypeError):  # objects would need pickle: refused before any rename
        save_state({"a": np.arange(4.0), "b": np.array([object()])}, path)
    np.testing.assert_array_equal(load_state(path)["a"], np.arange(3.0))
    assert [p.name for p in tmp_path.iterdir()] == ["e.ckpt"]


@pytest.mark.parametrize("aligned", [False, True])
def test_a_write_that_fails_midway_raises_and_leaves_nothing(tmp_path: Path, aligned: bool) -> None:
    path = tmp_path / "e.ckpt"
    big = _page_aligned(CHUNK, 3) if aligned else np.zeros(CHUNK)  # 8 buffers' worth
    save_state({"a": np.arange(3.0)}, path)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit: EFBIG, no signal
    resource.setrlimit(resource.RLIMIT_FSIZE, (3 * CHUNK, hard))
    try:
        with pytest.raises(OSError):  # raised in the writing thread, seen by the caller
            save_state({"a": big}, path)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
    np.testing.assert_array_equal(load_state(path)["a"], np.arange(3.0))
    assert [p.name for p in tmp_path.iterdir()] == ["e.ckpt"]


def test_a_checkpoint_of_the_older_scalar_layout_loads_with_new_fields_zeroed() -> None:
    """Fields appended to the scalar layout start at 0 in a new series; a state saved
    before they existed loads with them at 0 and scores on. Any other width is refused."""
    from opsradar.detect import _kernel as K

    eng = Engine()
    rng = np.random.default_rng(0)
    for t in range(100):  # a point a minute: the time-of-day memory has peaks to convert
        eng.score(np.arange(30), np.full(30, 60.0 * t), rng.standard_t(3, 30))
    state = eng.state_dict()
    old_nf = K.OLDER_NF[0]
    older = dict(state, **{"detector.scalars": state["detector.scalars"][:, :old_nf]})
    restored = Engine()
    restored.load_state_dict(older)
    got = restored.state_dict()["detector.scalars"]
    np.testing.assert_array_equal(got[:, :old_nf], state["detector.scalars"][:, :old_nf])
    assert (got[:, old_nf:] == 0.0).all() and got.shape[1] == K.NF
    # its time-of-day peaks were kept as peaks; now they carry the time they were seen
    peaks = restored.state_dict()["detector.seasonal"][:, K.N_PEAK :]
    was = state["detector.seasonal"][:, K.N_PEAK :]
    seen = state["detector.scalars"][:, K.LAST_TS, None] * 0.25 / K.DAY
    assert (~np.isnan(was)).any()
    np.testing.assert_allclose(peaks[~np.isnan(was)], (was + seen)[~np.isnan(was)])
    ts, values = np.full(30, 600.0), np.cos(np.arange(30.0))
    assert np.isfinite(restored.score(np.arange(30), ts, values)).all()
    odd = dict(state, **{"detector.scalars": state["detector.scalars"][:, : old_nf - 1]})
    with pytest.raises(ValueError, match="layout"):
        Engine().load_state_dict(odd)
    # the next layout (session 8) kept its peaks with their time: they load unchanged
    later_nf = K.OLDER_NF[1]
    later = dict(state, **{"detector.scalars": state["detector.scalars"][:, :later_nf]})
    restored = Engine()
    restored.load_state_dict(later)
    got = restored.state_dict()
    np.testing.assert_array_equal(got["detector.scalars"][:, :later_nf], later["detector.scalars"])
    assert (got["detector.scalars"][:, later_nf:] == 0.0).all()
    np.testing.assert_array_equal(got["detector.seasonal"], state["detector.seasonal"])
