"""Detector state to and from one file, written atomically.

The file holds each array's raw bytes, nothing more, so writing it costs little beyond the
disk (at 100,000 series the state is about 400 MB)::

    4 KiB    magic ``OPSRDET1`` and zeros
    arrays   each at a 4 KiB-aligned offset, C order
    index    JSON: name, dtype, shape, offset and CRC-32 of every array
    footer   index offset and length (little-endian uint64 each), magic

It is written through two reused 4 MiB buffers (one fills while the other is written),
straight to the disk (``O_DIRECT``) where the filesystem allows it, so a checkpoint does not
fill the page cache with memory it first has to clear; elsewhere through the page cache.
With ``O_DIRECT``, large arrays that start on a page (the detector's state, reserved in
pages) go to the disk straight from their memory, without the copy into a buffer.
It is written under a temporary name and renamed into place, so a crash never leaves half
a file where the last whole one was.

Reading checks the magic, the footer, every offset and every CRC: a truncated or damaged file
raises ``InputError`` (the server then starts without it, which costs a warm-up).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import io
import json
import math
import mmap
import os
import struct
import tempfile
import zlib
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from opsradar.core import InputError
from opsradar.detect._engine import Engine

MAGIC = b"OPSRDET1"
ALIGN = 4096  # offsets and O_DIRECT transfers: a multiple of any disk's logical block
CHUNK = 4 << 20  # the staging buffer
_FOOTER = struct.Struct("<QQ8s")
_KINDS = "biuf"  # bool, integers, floats: nothing that needs pickle


def save_checkpoint(engine: Engine, path: str | os.PathLike[str]) -> None:
    """Write the engine's state to ``path``; a crash never leaves half a file."""
    save_state(engine.state_dict(), path)


def save_state(
    state: Mapping[str, np.ndarray], path: str | os.PathLike[str], direct: bool = True
) -> None:
    """Write named arrays to ``path`` in the format above, atomically (``direct=False``:
    through the page cache even where the filesystem takes ``O_DIRECT``)."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".ckpt-", dir=target.parent)
    try:
        with _Out(fd, direct) as out:
            out.write(memoryview(MAGIC))
            index = [_write_array(out, name, arr) for name, arr in state.items()]
            out.align()
            at = out.size
            body = json.dumps(index).encode()
            out.write(memoryview(body))
            out.write(memoryview(_FOOTER.pack(at, len(body), MAGIC)))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_array(out: _Out, name: str, arr: np.ndarray) -> dict[str, Any]:
    data = np.asarray(arr, order="C")
    if data.dtype.kind not in _KINDS:
        raise TypeError(f"checkpoint array {name!r} has dtype {data.dtype}")
    out.align()
    entry = {"name": name, "dtype": data.dtype.str, "shape": list(data.shape), "offset": out.size}
    entry["crc32"] = out.write(data.reshape(-1).view(np.uint8).data)
    return entry


class _Out:
    """Sequential writes to ``fd`` through two page-aligned buffers: one fills (copy and CRC)
    while the other is written, with ``O_DIRECT`` when the file takes it (whole aligned
    blocks: the last one is padded, and the padding cut off on exit)."""

    def __init__(self, fd: int, direct: bool) -> None:
        self.fd = fd
        self.size = 0  # bytes written so far (the logical file size)
        self.direct = direct and _set_direct(fd, True)
        self._maps = [mmap.mmap(-1, CHUNK) for _ in range(2)]
        self._bufs = [memoryview(m) for m in self._maps]
        self._buf, self._fill = self._bufs[0], 0
        self._io = ThreadPoolExecutor(1, thread_name_prefix="checkpoint-io")
        self._writing: Future[None] | None = None

    def __enter__(self) -> _Out:
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        try:
            if kind is None:
                self._drain()
                self._wait()
                os.ftruncate(self.fd, self.size)
        finally:
            self._io.shutdown(wait=True)  # no write may still read a buffer
            os.close(self.fd)
            for buf in self._bufs:
                buf.release()
            for m in self._maps:  # after an error its traceback may hold a view: freed with it
                with contextlib.suppress(BufferError):
                    m.close()

    def write(self, data: memoryview) -> int:
        """Append ``data``; returns its CRC-32 (computed while it is in the cache).

        Where the file takes ``O_DIRECT`` and ``data`` starts on a page, its whole blocks are
        written straight from it, without a copy: it must then not change until the file is
        closed.
        """
        crc = 0
        if self.direct and self._fill % ALIGN == 0 and len(data) >= CHUNK and _aligned(data):
            if self._fill:
                self._drain()
            whole = len(data) - len(data) % ALIGN
            for at in range(0, whole, CHUNK):
                part = data[at : min(at + CHUNK, whole)]
                crc = zlib.crc32(part, crc)
                self._wait()
                self._writing = self._io.submit(self._write, part, len(part))
                self.size += len(part)
            data = data[whole:]
        while len(data):
            n = min(len(data), CHUNK - self._fill)
            part = self._buf[self._fill : self._fill + n]
            part[:] = data[:n]
            crc = zlib.crc32(part, crc)
            self._fill += n
            self.size += n
            data = data[n:]
            if self._fill == CHUNK:
                self._drain()
        return crc

    def align(self) -> None:
        """Zeros up to the next multiple of ``ALIGN``."""
        pad = -self.size % ALIGN
        if pad:
            self.write(memoryview(bytes(pad)))

    def _drain(self) -> None:
        """Hand the filled buffer to the writer and go on with the other one."""
        n = self._fill
        pad = -n % ALIGN  # only the last buffer is not whole
        self._buf[n : n + pad] = bytes(pad)
        self._wait()
        self._writing = self._io.submit(self._write, self._buf, n + pad)
        self._buf = self._bufs[1] if self._buf is self._bufs[0] else self._bufs[0]
        self._fill = 0

    def _wait(self) -> None:
        writing, self._writing = self._writing, None
        if writing is not None:
            writing.result()

    def _write(self, buf: memoryview, n: int) -> None:
        done = 0
        while done < n:
            try:
                done += os.write(self.fd, buf[done:n])
            except OSError as exc:  # a filesystem that accepted the flag but not the write
                if not self.direct or exc.errno != errno.EINVAL:
                    raise
                self.direct = _set_direct(self.fd, False)


def _aligned(data: memoryview) -> bool:
    return int(np.frombuffer(data, np.uint8).ctypes.data) % ALIGN == 0


def _set_direct(fd: int, on: bool) -> bool:
    """Turn ``O_DIRECT`` on or off for ``fd``; whether it is now on."""
    flag = getattr(os, "O_DIRECT", 0)
    if not flag:
        return False
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    try:
        fcntl.fcntl(fd, fcntl.F_SETFL, flags | flag if on else flags & ~flag)
    except OSError:  # tmpfs and others refuse it
        return False
    return on


def load_checkpoint(path: str | os.PathLike[str], engine: Engine | None = None) -> Engine:
    """Restore state saved by ``save_checkpoint`` into ``engine`` (a new one by default)."""
    engine = engine if engine is not None else Engine()
    try:
        engine.load_state_dict(load_state(path))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"checkpoint {path}: {exc}") from exc
    return engine


def load_state(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """The named arrays in a checkpoint file; ``ValueError`` if it is not whole."""
    with open(path, "rb") as f:
        if f.read(len(MAGIC)) != MAGIC:
            raise ValueError("not a detector checkpoint")
        size = os.fstat(f.fileno()).st_size
        index, end = _index(f, size)
        return {e["name"]: _read_array(f, e, end) for e in index}


def _index(f: io.BufferedReader, size: int) -> tuple[list[dict[str, Any]], int]:
    if size < len(MAGIC) + _FOOTER.size:
        raise ValueError("truncated")
    f.seek(size - _FOOTER.size)
    at, length, magic = _FOOTER.unpack(f.read(_FOOTER.size))
    if magic != MAGIC or at + length + _FOOTER.size != size:
        raise ValueError("truncated or damaged (no footer)")
    f.seek(at)
    index = json.loads(f.read(length))
    if not isinstance(index, list):
        raise ValueError("damaged index")
    return index, at


def _read_array(f: io.BufferedReader, entry: dict[str, Any], end: int) -> np.ndarray:
    dtype = np.dtype(entry["dtype"])
    shape = tuple(int(n) for n in entry["shape"])
    offset = int(entry["offset"])
    if dtype.kind not in _KINDS or min(shape, default=0) < 0:
        raise ValueError(f"array {entry['name']!r}: bad dtype or shape")
    if not 0 <= offset <= end - math.prod(shape) * dtype.itemsize:  # before allocating
        raise ValueError(f"array {entry['name']!r} lies outside the file")
    out = np.empty(shape, dtype)
    f.seek(offset)
    view = out.reshape(-1).view(np.uint8).data
    if f.readinto(view) != out.nbytes or zlib.crc32(view) != entry["crc32"]:
        raise ValueError(f"array {entry['name']!r} is damaged (CRC)")
    return out
