"""The wiring: the only module that imports every stage.

ingest listeners → queue → pipeline thread (store.resolve → engine.score → store.append)
store flush thread → DuckDB;  HTTP (uvicorn) → web app reading store, engine episodes, trends.
"""

from __future__ import annotations

import functools
import gc
import logging
import queue
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from itertools import chain
from types import FrameType
from typing import Any

import numpy as np
import uvicorn

from opsradar.core import Config, PointBatch, SelfMetrics, StoreError
from opsradar.detect import Engine, Episode, Policy, load_checkpoint, make_detector, save_state
from opsradar.ingest import (
    GraphitePickleServer,
    GraphiteServer,
    GraphiteUdpServer,
    PrometheusScraper,
    StatsdServer,
    parse_points_json,
    parse_remote_write,
)
from opsradar.ingest._graphite import GraphiteParser
from opsradar.ingest._statsd_parse import StatsdParser
from opsradar.rank import Ranker, Severity, Trend, Window, change_scores, window_stats
from opsradar.store import HotWindow, Refusals, Store
from opsradar.web import Access, TokenAuth, WebContext, create_app

log = logging.getLogger("opsradar")

QUEUE_BATCHES = 4096
LIMIT_ALERT_FOR = 900.0  # seconds the series-cap alert stays on the board after a refusal


class Pipeline:
    """The sink ingest writes to: batches queue (bounded in points) for one worker thread."""

    def __init__(
        self,
        store: Store,
        engine: Engine,
        metrics: SelfMetrics,
        max_points: int = 2_000_000,
        block_timeout: float = 10.0,
    ) -> None:
        self.store = store
        self.engine = engine
        self.metrics = metrics
        self.engine_lock = threading.Lock()
        self._queue: queue.Queue[PointBatch | None] = queue.Queue(maxsize=QUEUE_BATCHES)
        self._thread = threading.Thread(target=self._run, name="pipeline", daemon=True)
        self.max_points = max_points  # memory bound: points queued, whatever the batch sizes
        self._queued = 0
        self._space = threading.Condition()
        self.block_timeout = block_timeout

    def put(self, batch: PointBatch) -> None:
        """Queue a batch. When the queue is full, wait up to ``block_timeout`` seconds: a TCP
        sender is slowed by its own flow control instead of losing data; past that, the
        batch is dropped and counted as ``queue_full`` (memory stays bounded)."""
        n = len(batch)
        if n == 0:
            return
        deadline = time.monotonic() + self.block_timeout
        with self._space:
            while self._queued + n > self.max_points and self._queued > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._space.wait(left)
            full = self._queued + n > self.max_points and self._queued > 0
            if not full:
                self._queued += n
        try:
            if full:
                raise queue.Full
            self._queue.put(batch, timeout=max(0.001, deadline - time.monotonic()))
        except queue.Full:
            if not full:
                self._dequeued([batch])
            self.metrics.reject(batch.protocol, "queue_full", n)
        self.metrics.queue_depth.set(self._queue.qsize())

    def _dequeued(self, batches: list[PointBatch]) -> None:
        with self._space:
            self._queued -= sum(len(b) for b in batches)
            self._space.notify_all()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def drain(self, timeout: float = 10.0) -> None:
        """Wait until every queued batch is processed (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    def _run(self) -> None:
        while True:
            batch = self._queue.get()
            if batch is None:
                self._queue.task_done()
                return
            batches = [batch]
            while len(batches) < 256:  # combine what is waiting into one scoring step
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)
                    self._queue.task_done()
                    break
                batches.append(nxt)
            try:
                self._process(batches)
            except Exception:  # one bad batch must not stop scoring for everyone
                log.exception("pipeline: dropped %d batches", len(batches))
                for b in batches:
                    self.metrics.reject(b.protocol, "internal_error", len(b))
            finally:
                self._dequeued(batches)
                for _ in batches:
                    self._queue.task_done()
                self.metrics.queue_depth.set(self._queue.qsize())

    def _process(self, batches: list[PointBatch]) -> None:
        names = list(chain.from_iterable(b.names for b in batches))
        ts = np.concatenate([b.ts for b in batches])
        values = np.concatenate([b.values for b in batches])
        slots = self.store.resolve(names)
        if (slots < 0).any():  # new series past the cap: refused, counted, the rest go on
            refused = slots < 0
            _count_refused(self.metrics, batches, refused)
            keep = ~refused
            slots, ts, values = slots[keep], ts[keep], values[keep]
        started = time.perf_counter()
        with self.engine_lock:
            scores = self.engine.score(slots, ts, values)
        self.metrics.detector_latency.observe(time.perf_counter() - started)
        self.metrics.points_scored.inc(len(slots))
        self.store.append(slots, ts, values, scores)


def _timed(fn: Callable[..., object], *args: object) -> float:
    """Seconds ``fn(*args)`` took."""
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


def _count_refused(metrics: SelfMetrics, batches: list[PointBatch], refused: np.ndarray) -> None:
    at = 0
    for b in batches:
        n = int(refused[at : at + len(b)].sum())
        if n:
            metrics.reject(b.protocol, "series_limit", n)
        at += len(b)


class Board:
    """The board's trends: the ranker's (it caches them), with the series-cap alert on top."""

    def __init__(
        self, pipeline: Pipeline, store: Store, clock: Callable[[], float] = time.time
    ) -> None:
        self.pipeline = pipeline
        self.store = store
        self.clock = clock
        self.ranker = Ranker(self._episodes, store, clock=clock)

    def _episodes(self, now: float) -> list[Episode]:
        with self.pipeline.engine_lock:
            episodes = self.pipeline.engine.episodes(now)  # stopped series included
        return [e for e in episodes if not self.store.is_deleted(e.slot)]

    def trends(self) -> list[Trend]:
        trends = self.ranker.trends()  # cached there; feedback drops the cache
        alert = _limit_alert(self.store.refusals(), self.clock())
        return [alert, *trends] if alert is not None else trends


def _limit_alert(refused: Refusals, now: float) -> Trend | None:
    """A board item while the series cap refuses new series (and for a while after)."""
    if refused.last is None or now - refused.last > LIMIT_ALERT_FOR:
        return None
    where = ", ".join(
        "overall cap" if p == "*" else f"{n:,} under {p!r}" for p, n in refused.prefixes[:3]
    )
    sentence = (
        f"Series cap reached: {refused.total:,} new series refused ({where}); existing series "
        "keep working. Raise max_series / max_series_per_prefix or fix the source of new names."
    )
    series = tuple(f"{p}.*" if p != "*" else "*" for p, _ in refused.prefixes) or ("*",)
    sev = Severity(score=1.0, size=1.0, duration=1.0, breadth=1.0, recency=1.0, total=100.0)
    return Trend(
        id="opsradar-series-cap",
        family="opsradar.limits",
        kind="series_limit",
        series=series,
        start=refused.since or refused.last,
        last=refused.last,
        open=now - refused.last < 60.0,
        expected=0.0,
        observed=float(refused.total),
        deviation=0.0,
        severity=sev,
        deploy=None,
        sentence=sentence,
    )


class _Uvicorn(uvicorn.Server):
    """uvicorn re-raises a caught SIGTERM/SIGINT after its own shutdown, which would kill the
    process before the store and detector state are flushed; we stop cleanly and exit 0.
    ``on_exit`` is called at the signal (it must not block): uvicorn then takes 0.1-0.2 s,
    mostly asleep, to close HTTP, and the wire listeners can wind down meanwhile."""

    def __init__(self, config: uvicorn.Config, on_exit: Callable[[], None]) -> None:
        super().__init__(config)
        self.on_exit = on_exit

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self._captured_signals.clear()
        self.on_exit()


def _bind_tcp(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(512)
    sock.set_inheritable(True)
    return sock


def compile_kernels(detector: str = "opsradar") -> float:
    """Run every compiled path once on throwaway data; return the seconds it took.

    numba compiles a kernel the first time it is called (or loads it from its on-disk
    cache), and compiling holds the GIL. On a fresh install nothing is cached: the kernels
    take ~13 s to compile, ~8 s of it the detector's, and no listener thread can read its
    socket meanwhile. Measured with ``bench/ingest/bench_statsd.py`` against a server whose
    cache was cold: the first run at 400,000 lines/s with 100,000 keys lost 65.5 % of its
    lines (the UDP buffer overflowed while the first flush compiled the detector); the runs
    after it lost nothing. So ``Server.start`` runs every compiled path here - the
    detector and its episode tracker, the StatsD counter pass, the Graphite scan and path
    index (grown once), the ranker's window statistics - before it listens. With a warm
    cache this takes ~0.2 s.
    """
    t0 = time.perf_counter()
    eng = Engine(make_detector(detector))
    ts = 1_700_000_000.0 + 10.0 * np.arange(4, dtype=np.float64)
    eng.score(np.zeros(4, dtype=np.int64), ts, np.array([1.0, 2.0, 1.0, 50.0]))
    eng.episodes(float(ts[-1]))

    statsd = StatsdParser()
    for _ in range(2):  # a key is summed in compiled code from its second window on
        statsd.feed(b"warm.c:1|c\nwarm.s:2|c|@0.5\nwarm.t:3|ms")
        statsd.swap()

    graphite = GraphiteParser()
    lines = b"".join(b"warm.p%d 1 1700000000\n" % i for i in range(600))  # the index grows
    for _ in range(2):  # the second time, the paths are found in the index
        graphite.parse_bulk(lines, float(ts[0]))

    hot = HotWindow(points=4, capacity=1, reserve=1)
    hot.append(np.zeros(1, dtype=np.int64), ts[:1], np.ones(1))
    span = Window(float(ts[0]), float(ts[-1]))
    change_scores(window_stats(hot.ts, hot.values, np.zeros(1, dtype=np.int64), span, span))
    return time.perf_counter() - t0


class Server:
    """One opsradar process. ``start()`` opens everything; ``serve()`` blocks until a signal."""

    def __init__(
        self,
        config: Config,
        metrics: SelfMetrics | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.metrics = metrics if metrics is not None else SelfMetrics()
        self.clock = clock
        detector = make_detector(config.detector)  # unknown names fail before any socket opens
        self.engine = Engine(detector, Policy(config.threshold), stale_after=config.stale_after)
        self.store = Store.from_config(config, self.metrics)
        self.pipeline = Pipeline(self.store, self.engine, self.metrics, config.max_queued_points)
        self.board = Board(self.pipeline, self.store, clock)
        self.listeners: dict[str, Any] = {}
        self.http_socket: socket.socket | None = None
        self._stop = threading.Event()
        self._checkpointer = threading.Thread(target=self._checkpoint_loop, daemon=True)
        self._winding_down: threading.Thread | None = None

    @property
    def ports(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for name, x in self.listeners.items():  # a bound port is never 0: 0 means "off"
            if getattr(x, "port", 0):
                out[name] = x.port
            if getattr(x, "tcp_port", 0):
                out[f"{name}_tcp"] = x.tcp_port
        if self.http_socket is not None:
            out["http"] = self.http_socket.getsockname()[1]
        return out

    def start(self) -> None:
        # compiled before any socket opens: compiling holds the GIL, and a listener that
        # cannot read its socket for the ~13 s of a cold compile loses what is sent
        took = compile_kernels(self.config.detector)
        log.info("compiled kernels ready in %.2f s", took)
        self.store.open()
        self._restore()
        self.store.start()
        self.pipeline.start()
        cfg = self.config
        if cfg.statsd_port >= 0 or cfg.statsd_tcp_port >= 0:
            self.listeners["statsd"] = StatsdServer(
                cfg.host,
                cfg.statsd_port if cfg.statsd_port >= 0 else None,
                self.pipeline,
                self.metrics,
                flush_interval=cfg.flush_interval,
                percentiles=cfg.percentile_list,
                tcp_port=cfg.statsd_tcp_port if cfg.statsd_tcp_port >= 0 else None,
            )
        if cfg.graphite_port >= 0:
            self.listeners["graphite"] = GraphiteServer(
                cfg.host, cfg.graphite_port, self.pipeline, self.metrics
            )
        if cfg.graphite_udp_port >= 0:
            self.listeners["graphite_udp"] = GraphiteUdpServer(
                cfg.host, cfg.graphite_udp_port, self.pipeline, self.metrics
            )
        if cfg.pickle_port >= 0:
            self.listeners["pickle"] = GraphitePickleServer(
                cfg.host, cfg.pickle_port, self.pipeline, self.metrics
            )
        if cfg.scrape_target_list:
            self.listeners["scrape"] = PrometheusScraper(
                cfg.scrape_target_list, cfg.scrape_interval, self.pipeline, self.metrics
            )
        for listener in self.listeners.values():
            listener.start()
        self.http_socket = _bind_tcp(cfg.host, cfg.http_port)
        self._checkpointer.start()

    def _restore(self) -> None:
        path = self.store.checkpoint_path
        if path.exists():
            try:
                load_checkpoint(path, self.engine)
                log.info("detector state restored from %s", path)
            except Exception as exc:  # a bad checkpoint costs a warm-up, never the start
                log.error("ignoring unreadable detector checkpoint %s: %s", path, exc)

    def checkpoint(self, closing: bool = False) -> str:
        """Detector state to disk, flushing the store meanwhile (``closing``: and closing it).
        Returns where the time went, for the log.

        The state is copied under the engine lock, so scoring waits only for the copy; when
        closing, nothing scores any more, so the live arrays are written as they are, with no
        copy. The file is written while the store flushes, or closes (one mostly waits on the
        disk, the other on the CPU), and replaces the last one only once every series it
        knows is on disk too.
        """
        path = self.store.checkpoint_path
        tmp = path.with_name(f".{path.name}.tmp")
        store_op = self.store.close if closing else self.store.flush
        with ThreadPoolExecutor(2, thread_name_prefix="checkpoint") as pool:
            started = time.perf_counter()
            with self.pipeline.engine_lock:
                slots, state = self.engine.n_slots, self.engine.state_dict(copy=not closing)
            copied = time.perf_counter() - started
            written = pool.submit(_timed, save_state, state, tmp)
            del state  # the writer holds it as long as it needs it
            storing = pool.submit(_timed, store_op).result()  # a StoreError is the caller's
            try:
                writing = written.result()
            except OSError as exc:
                self.store.last_error = f"cannot write detector checkpoint: {exc}"
                log.error("%s", self.store.last_error)
                return ""
        if self.store.persisted_series < slots:  # the store's error is already reported
            log.error("detector checkpoint not kept: the store could not write every series")
            tmp.unlink(missing_ok=True)
            return ""
        tmp.replace(path)
        return (
            f"detector state {'taken' if closing else 'copied'} in {copied:.2f} s and written in "
            f"{writing:.2f} s; the store {'closed' if closing else 'flushed'} alongside in "
            f"{storing:.2f} s"
        )

    def _checkpoint_loop(self) -> None:
        while not self._stop.wait(self.config.checkpoint_interval):
            self.checkpoint()

    def app(self) -> Any:
        ctx = WebContext(
            store=self.store,
            metrics=self.metrics,
            sink=self.pipeline,
            parse_points=parse_points_json,
            parse_remote_write=functools.partial(parse_remote_write, rejects=self.metrics),
            trends=self.board.trends,
            ranker=self.board.ranker,
            threshold=self.config.threshold,
            clock=self.clock,
        )
        app = create_app(ctx)
        cfg = self.config
        app.add_middleware(
            TokenAuth, access=Access(cfg.write_token, cfg.admin_token, cfg.read_token)
        )
        return app

    def serve(self, on_ready: Callable[[dict[str, int]], None] | None = None) -> None:
        """Serve HTTP until SIGINT/SIGTERM, then stop everything cleanly."""
        assert self.http_socket is not None, "call start() first"
        # What start() built (modules, the series index, detector state) lives as long as the
        # process: out of every later collection, a full pass costs 0.2-0.3 s at 100,000
        # series. Refcounting still frees it; only cycles among it would stay.
        gc.collect()
        gc.freeze()
        config = uvicorn.Config(self.app(), log_level="warning", access_log=False)
        server = _Uvicorn(config, on_exit=self._wind_down)
        if on_ready is not None:
            on_ready(self.ports)
        try:
            server.run(sockets=[self.http_socket])
        finally:
            self.stop()

    def _wind_down(self) -> None:
        """Begin stopping, without waiting: the wire listeners stop and what they sent is
        scored and flushed, while HTTP may still take points (the final stop has them)."""
        if self._winding_down is None:
            self._winding_down = threading.Thread(target=self._stop_listeners, name="stopping")
            self._winding_down.start()

    def _stop_listeners(self) -> None:
        for listener in self.listeners.values():
            listener.stop()
        self.pipeline.drain()
        try:
            self.store.flush()
        except StoreError as exc:  # reported by the store; the final close tries again
            log.error("flush at stop failed: %s", exc)

    def stop(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        started = time.perf_counter()
        self._wind_down()
        assert self._winding_down is not None
        self._winding_down.join()
        self.pipeline.drain()
        self.pipeline.stop()
        if self._checkpointer.is_alive():  # a periodic checkpoint under way finishes first
            self._checkpointer.join()
        drained = time.perf_counter()
        parts = ""
        try:
            parts = self.checkpoint(closing=True)
        except StoreError as exc:
            log.error("final checkpoint failed: %s", exc)
            self.store.close()
        log.info(
            "stopped: pipeline drained in %.2f s, store closed and detector state saved in %.2f s"
            " (%s)",
            drained - started,
            time.perf_counter() - drained,
            parts,
        )
        self.board.ranker.close()
        if self.http_socket is not None:
            self.http_socket.close()
