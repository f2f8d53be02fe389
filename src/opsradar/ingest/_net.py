"""Socket plumbing shared by every listener: a UDP reader and a TCP selector loop.

Each listener runs on its own daemon thread, reads in batches (a UDP reader drains up to
``UDP_BATCH`` datagrams per wake-up), and hands whole buffers to a handler. A handler that
raises is counted (``internal_error``) and logged; the listener keeps going.

Datagrams the kernel dropped because the socket's receive buffer was full never reach us;
a UDP reader reads its socket's ``drops`` counter from ``/proc/net/udp`` (Linux) about once
a second and counts what is new as ``kernel_buffer``, so overload is visible, not silent.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import socket
import threading
import time
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger("opsradar.ingest")

#: Requested kernel receive buffer; the kernel may cap it (net.core.rmem_max).
RCVBUF = 32 * 1024 * 1024
UDP_BATCH = 2048
MAX_DATAGRAM = 65535
TCP_READ = 256 * 1024
POLL_SECONDS = 0.1
DROPS_EVERY = 1.0

Reject = Callable[[str, int], None]


class _Waker:
    """Wakes a selector loop at once when its listener stops (instead of at its next poll)."""

    def __init__(self) -> None:
        self.r, self._w = socket.socketpair()
        self.r.setblocking(False)
        self._w.setblocking(False)

    def wake(self) -> None:
        with contextlib.suppress(OSError):
            self._w.send(b"x")

    def close(self) -> None:
        self.r.close()
        self._w.close()


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def kernel_drops(sock: socket.socket) -> int | None:
    """Datagrams the kernel dropped for ``sock`` (its ``drops`` column in ``/proc/net/udp``
    or ``udp6``), or None where that is not available."""
    try:
        inode = str(os.fstat(sock.fileno()).st_ino)
        table = "udp6" if sock.family == socket.AF_INET6 else "udp"
        with open(f"/proc/net/{table}") as f:
            for line in f:
                fields = line.split()
                if len(fields) >= 13 and fields[9] == inode:
                    return int(fields[-1])
    except (OSError, ValueError):
        return None
    return None


class _SocketThread:
    """One bound socket read by one thread, which a ``_Waker`` wakes at once on ``stop()``."""

    def __init__(self, host: str, port: int, reject: Reject) -> None:
        self._addr = (host, port)
        self._reject = reject
        self._stop = threading.Event()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._waker: _Waker | None = None  # made by _launch()
        self.port = 0

    def _launch(self, sock: socket.socket, name: str) -> None:
        self.port = sock.getsockname()[1]
        self._sock = sock
        self._waker = _Waker()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        self._stop.set()
        if self._waker is not None:
            self._waker.wake()
        if self._thread is not None:
            self._thread.join()
        if self._sock is not None:
            self._sock.close()
        if self._waker is not None:
            self._waker.close()


class UdpReader(_SocketThread):
    """Reads datagrams on its own thread; ``handle(datagrams)`` gets each drained batch."""

    def __init__(
        self,
        host: str,
        port: int,
        handle: Callable[[list[bytes]], None],
        reject: Reject,
        rcvbuf: int = RCVBUF,
    ) -> None:
        super().__init__(host, port, reject)
        self._rcvbuf = rcvbuf
        self._drops = 0
        self._handle = handle

    def start(self, name: str) -> None:
        sock = socket.socket(_family(self._addr[0]), socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self._rcvbuf)
        except OSError:  # pragma: no cover - some kernels refuse; the default still works
            log.warning("could not set SO_RCVBUF on %s", name)
        sock.bind(self._addr)
        self._launch(sock, name)

    def _run(self) -> None:
        assert self._sock is not None
        sock = self._sock
        poller = selectors.DefaultSelector()
        poller.register(sock, selectors.EVENT_READ)
        assert self._waker is not None
        poller.register(self._waker.r, selectors.EVENT_READ)
        recv = sock.recv
        dontwait = socket.MSG_DONTWAIT
        next_check = time.monotonic() + DROPS_EVERY
        while not self._stop.is_set():
            if poller.select(POLL_SECONDS):
                self._drain(recv, dontwait)
            if time.monotonic() >= next_check:
                next_check = time.monotonic() + DROPS_EVERY
                self.count_drops()
        poller.close()
        while self._drain(recv, dontwait):  # what arrived before stop() is kept
            pass
        self.count_drops()

    def count_drops(self) -> None:
        """Count datagrams the kernel dropped since the last call (``kernel_buffer``)."""
        if self._sock is None:
            return
        drops = kernel_drops(self._sock)
        if drops is not None and drops > self._drops:
            self._reject("kernel_buffer", drops - self._drops)
            self._drops = drops

    def _drain(self, recv: Callable[[int, int], bytes], flags: int) -> bool:
        batch: list[bytes] = []
        try:
            for _ in range(UDP_BATCH):
                batch.append(recv(MAX_DATAGRAM, flags))
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:  # pragma: no cover - socket closed under us
            log.exception("UDP receive failed")
            return False
        if batch:
            _guarded(self._handle, batch, self._reject)
        return bool(batch)


def _guarded(handle: Callable[[list[bytes]], None], batch: list[bytes], reject: Reject) -> None:
    try:
        handle(batch)
    except Exception:
        log.exception("ingest handler failed; batch dropped")
        reject("internal_error", len(batch))


class Connection(Protocol):
    """Per-connection protocol state: bytes in, complete units handled inside."""

    def feed(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class TcpServer(_SocketThread):
    """Accepts connections and reads all of them on one selector thread.

    ``make_connection()`` builds the per-connection state (line framing, pickle framing).
    A connection ends when the client closes it; nothing it sends closes it.
    """

    def __init__(
        self, host: str, port: int, make_connection: Callable[[], Connection], reject: Reject
    ) -> None:
        super().__init__(host, port, reject)
        self._make = make_connection

    def start(self, name: str) -> None:
        sock = socket.socket(_family(self._addr[0]), socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(self._addr)
        sock.listen(128)
        sock.setblocking(False)
        self._launch(sock, name)

    def _run(self) -> None:
        assert self._sock is not None
        sel = selectors.DefaultSelector()
        sel.register(self._sock, selectors.EVENT_READ, None)
        waker = self._waker
        assert waker is not None
        sel.register(waker.r, selectors.EVENT_READ, waker)
        try:
            while not self._stop.is_set():
                for key, _ in sel.select(POLL_SECONDS):
                    if key.data is None:
                        self._accept(sel)
                    elif key.data is not waker:
                        self._read(sel, key.fileobj, key.data)  # type: ignore[arg-type]
        finally:
            for key in list(sel.get_map().values()):
                if key.data is not None and key.data is not waker:
                    self._close(sel, key.fileobj, key.data)  # type: ignore[arg-type]
            sel.close()

    def _accept(self, sel: selectors.BaseSelector) -> None:
        assert self._sock is not None
        try:
            conn, _ = self._sock.accept()
        except OSError:
            return
        conn.setblocking(False)
        sel.register(conn, selectors.EVENT_READ, self._make())

    def _read(self, sel: selectors.BaseSelector, conn: socket.socket, state: Connection) -> None:
        try:
            data = conn.recv(TCP_READ)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._close(sel, conn, state)
            return
        try:
            state.feed(data)
        except Exception:
            log.exception("ingest handler failed; buffer dropped")
            self._reject("internal_error", 1)

    def _close(self, sel: selectors.BaseSelector, conn: socket.socket, state: Connection) -> None:
        sel.unregister(conn)
        conn.close()
        try:
            state.close()
        except Exception:
            log.exception("ingest handler failed at close")
            self._reject("internal_error", 1)


class LineFraming:
    """Splits a byte stream into complete lines; partial lines wait for the next read.

    A line longer than ``max_line`` is dropped (``too_long``) up to its newline.
    """

    def __init__(self, handle: Callable[[bytes], None], reject: Reject, max_line: int) -> None:
        self._handle = handle
        self._reject = reject
        self._max = max_line
        self._buf = b""
        self._skipping = False

    def feed(self, data: bytes) -> None:
        if self._buf:
            data = self._buf + data
            self._buf = b""
        cut = data.rfind(b"\n")
        if cut < 0:
            self._keep(data)
            return
        head, tail = data[: cut + 1], data[cut + 1 :]
        if self._skipping:
            head = head[head.find(b"\n") + 1 :]
            self._skipping = False
        if head:
            self._handle(head)
        self._keep(tail)

    def _keep(self, tail: bytes) -> None:
        if self._skipping:
            return
        if len(tail) > self._max:
            self._reject("too_long", 1)
            self._skipping = True
            return
        self._buf = tail

    def close(self) -> None:
        if self._buf and not self._skipping:
            self._handle(self._buf)
        self._buf = b""
