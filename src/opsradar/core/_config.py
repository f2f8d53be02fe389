"""The one settings table, and the frozen Config built from it.

Every setting is ``Setting(name, default, help)``. Values come, in rising order of
precedence, from the defaults, a TOML file, ``OPSRADAR_<NAME>`` environment variables
and command-line flags. ``docs/configuration.md`` is generated from this table and a
test checks that it is current.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from opsradar.core._errors import ConfigError


class Setting(NamedTuple):
    name: str
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("host", "127.0.0.1", "Address every listener binds to."),
    Setting("data_dir", "./opsradar-data", "Directory for the DuckDB file and checkpoints."),
    Setting("http_port", 8080, "HTTP port: web board, JSON API, /metrics. 0 picks a free port."),
    Setting("statsd_port", 8125, "StatsD UDP port. 0 picks a free port, -1 disables."),
    Setting(
        "graphite_port", 2003, "Graphite plaintext TCP port. 0 picks a free port, -1 disables."
    ),
    Setting("statsd_tcp_port", 8125, "StatsD TCP port. 0 picks a free port, -1 disables."),
    Setting(
        "graphite_udp_port", 2003, "Graphite plaintext UDP port. 0 picks a free port, -1 disables."
    ),
    Setting("pickle_port", 2004, "Graphite pickle TCP port. 0 picks a free port, -1 disables."),
    Setting(
        "scrape_targets",
        "",
        "Prometheus exposition URLs to scrape, comma separated (empty: no scraping).",
    ),
    Setting("scrape_interval", 15.0, "Seconds between scrapes of each Prometheus target."),
    Setting("flush_interval", 10.0, "Seconds between StatsD aggregate flushes."),
    Setting("percentiles", "90", "StatsD timer percentiles, comma separated (e.g. '90,99')."),
    Setting("hot_points", 720, "Points kept per series in the in-memory hot window."),
    Setting(
        "store_flush_interval",
        2.0,
        "Seconds between writes of accepted points to disk. A crash (SIGKILL, power loss) "
        "loses at most the points accepted in the last interval.",
    ),
    Setting(
        "checkpoint_interval",
        60.0,
        "Seconds between saves of detector state. After a crash the detectors resume from "
        "the last save; a clean stop always saves.",
    ),
    Setting("raw_retention_days", 7.0, "Days raw points are kept."),
    Setting("rollup_1m_retention_days", 30.0, "Days 1-minute rollups (min, max, sum, count) kept."),
    Setting("rollup_1h_retention_days", 730.0, "Days 1-hour rollups (min, max, sum, count) kept."),
    Setting("maintenance_interval", 600.0, "Seconds between retention passes over the disk."),
    Setting(
        "db_memory_mb",
        256,
        "Memory DuckDB may use for its buffer pool (MB); without a cap it keeps recently "
        "written blocks up to 80% of RAM.",
    ),
    Setting(
        "max_series",
        200_000,
        "Most series held. Points of new series past the cap are refused and counted "
        "(`series_limit`); existing series keep working. 0 means no cap.",
    ),
    Setting(
        "max_series_per_prefix",
        50_000,
        "Most series under one name prefix (see `series_prefix_depth`). 0 means no cap.",
    ),
    Setting("series_prefix_depth", 2, "Dotted components that form a prefix: 2 → `stats.timers`."),
    Setting(
        "max_queued_points",
        2_000_000,
        "Most points waiting between ingest and scoring; more are refused (`queue_full`).",
    ),
    Setting(
        "max_pending_points",
        5_000_000,
        "Most scored points held in memory while the disk cannot take them; past it the "
        "oldest are dropped and counted (`disk_backlog`).",
    ),
    Setting(
        "write_token",
        "",
        "Token for ingest over HTTP, events and feedback (`Authorization: Bearer ...`). "
        "Required, with `admin_token`, when `host` is not a loopback address.",
    ),
    Setting("admin_token", "", "Token for deletion and other admin requests; also allows writes."),
    Setting(
        "read_token",
        "",
        "Token for reading pages and the API. Empty: reads are open. Write and admin "
        "tokens also allow reads.",
    ),
    Setting(
        "insecure",
        False,
        "Allow binding a non-loopback address without write and admin tokens.",
    ),
    Setting("detector", "opsradar", "Name of the registered streaming detector."),
    Setting(
        "threshold", 0.5, "Score at or above which the default policy calls a point anomalous."
    ),
    Setting(
        "stale_after", 5.0, "A series is 'stopped reporting' after this many of its intervals."
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}
MIN_TOKEN_LENGTH = 16


@dataclasses.dataclass(frozen=True)
class Config:
    host: str = "127.0.0.1"
    data_dir: str = "./opsradar-data"
    http_port: int = 8080
    statsd_port: int = 8125
    graphite_port: int = 2003
    statsd_tcp_port: int = 8125
    graphite_udp_port: int = 2003
    pickle_port: int = 2004
    scrape_targets: str = ""
    scrape_interval: float = 15.0
    flush_interval: float = 10.0
    percentiles: str = "90"
    hot_points: int = 720
    store_flush_interval: float = 2.0
    checkpoint_interval: float = 60.0
    raw_retention_days: float = 7.0
    rollup_1m_retention_days: float = 30.0
    rollup_1h_retention_days: float = 730.0
    maintenance_interval: float = 600.0
    db_memory_mb: int = 256
    max_series: int = 200_000
    max_series_per_prefix: int = 50_000
    series_prefix_depth: int = 2
    max_queued_points: int = 2_000_000
    max_pending_points: int = 5_000_000
    write_token: str = dataclasses.field(default="", repr=False)
    admin_token: str = dataclasses.field(default="", repr=False)
    read_token: str = dataclasses.field(default="", repr=False)
    insecure: bool = False
    detector: str = "opsradar"
    threshold: float = 0.5
    stale_after: float = 5.0

    @property
    def percentile_list(self) -> tuple[float, ...]:
        try:
            return tuple(float(p) for p in self.percentiles.split(",") if p.strip())
        except ValueError as exc:
            raise ConfigError(
                f"percentiles: {self.percentiles!r} is not a list of numbers"
            ) from exc

    @property
    def scrape_target_list(self) -> list[str]:
        return [t.strip() for t in self.scrape_targets.split(",") if t.strip()]


def _coerce(name: str, raw: Any) -> Any:
    default = _BY_NAME[name].default
    try:
        if isinstance(default, bool):
            if isinstance(raw, str):
                return raw.strip().lower() in ("1", "true", "yes", "on")
            return bool(raw)
        return type(default)(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name}: {raw!r} is not a valid {type(default).__name__}") from exc


def load_config(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    toml_path: str | os.PathLike[str] | None = None,
) -> Config:
    """Build the Config from defaults < TOML < environment < flags (``None`` flags ignored)."""
    values: dict[str, Any] = {}
    if toml_path is not None:
        try:
            data = tomllib.loads(Path(toml_path).read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"config file {toml_path}: {exc}") from exc
        for key, raw in data.items():
            if key not in _BY_NAME:
                raise ConfigError(f"config file {toml_path}: unknown setting {key!r}")
            values[key] = _coerce(key, raw)
    for key, raw in (env if env is not None else os.environ).items():
        if key.startswith("OPSRADAR_") and key[9:].lower() in _BY_NAME:
            values[key[9:].lower()] = _coerce(key[9:].lower(), raw)
    for key, raw in (flags or {}).items():
        if raw is None:
            continue
        if key not in _BY_NAME:
            raise ConfigError(f"unknown setting {key!r}")
        values[key] = _coerce(key, raw)
    config = Config(**values)
    _validate(config)
    return config


def _validate(config: Config) -> None:
    ports = ("http_port", "statsd_port", "graphite_port")
    for port in (*ports, "statsd_tcp_port", "graphite_udp_port", "pickle_port"):
        value = getattr(config, port)
        if not -1 <= value <= 65535:
            raise ConfigError(f"{port}: {value} is not a port number")
    if config.flush_interval <= 0 or config.store_flush_interval <= 0:
        raise ConfigError("flush intervals must be positive")
    if config.scrape_interval <= 0:
        raise ConfigError("scrape_interval must be positive")
    for target in config.scrape_target_list:
        if not target.startswith(("http://", "https://")):
            raise ConfigError(f"scrape_targets: {target!r} is not an http(s) URL")
    if not 0.0 < config.threshold <= 1.0:
        raise ConfigError("threshold must be in (0, 1]")
    if config.hot_points < 16:
        raise ConfigError("hot_points must be at least 16")
    _validate_storage(config)
    _validate_access(config)
    config.percentile_list  # noqa: B018 - raises ConfigError on a bad list


def _validate_storage(config: Config) -> None:
    for name in (
        "checkpoint_interval",
        "raw_retention_days",
        "rollup_1m_retention_days",
        "rollup_1h_retention_days",
        "maintenance_interval",
        "db_memory_mb",
    ):
        if not getattr(config, name) > 0:
            raise ConfigError(f"{name} must be positive")
    for name in ("max_series", "max_series_per_prefix"):
        if getattr(config, name) < 0:
            raise ConfigError(f"{name} must be 0 (no cap) or positive")
    if config.series_prefix_depth < 1:
        raise ConfigError("series_prefix_depth must be at least 1")
    if config.max_queued_points < 1000 or config.max_pending_points < 1000:
        raise ConfigError("max_queued_points and max_pending_points must be at least 1000")


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (``127.0.0.0/8``, ``::1``, localhost).

    >>> is_loopback("127.0.0.1"), is_loopback("0.0.0.0"), is_loopback("localhost")
    (True, False, True)
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _validate_access(config: Config) -> None:
    tokens = {"write_token": config.write_token, "admin_token": config.admin_token}
    tokens["read_token"] = config.read_token
    for name, token in tokens.items():
        if token and (len(token) < MIN_TOKEN_LENGTH or token != token.strip()):
            raise ConfigError(f"{name} must be at least {MIN_TOKEN_LENGTH} characters, no spaces")
    if is_loopback(config.host) or config.insecure:
        return
    if not (config.write_token and config.admin_token):
        raise ConfigError(
            f"host {config.host!r} is reachable from other machines: set write_token and "
            "admin_token (e.g. OPSRADAR_WRITE_TOKEN, OPSRADAR_ADMIN_TOKEN), "
            "or pass --insecure to accept writes from anyone"
        )


def settings_markdown() -> str:
    """The settings table as Markdown (docs/configuration.md)."""
    lines = [
        "# Configuration",
        "",
        "Each setting can be given as a flag (`--data-dir`), an environment variable",
        "(`OPSRADAR_DATA_DIR`) or a key in a TOML file passed with `--config` (`data_dir = ...`).",
        "Flags win over the environment, which wins over the file. A setting without a flag of",
        "its own is given on the command line as `--set name=value`. Keep tokens out of the",
        "command line (other users can read it): use the environment or the file.",
        "",
        "| setting | default | meaning |",
        "|---|---|---|",
    ]
    lines += [f"| `{s.name}` | {_shown(s.default)} | {s.help} |" for s in SETTINGS]
    return "\n".join(lines) + "\n"


def _shown(default: Any) -> str:
    return "(empty)" if default == "" else f"`{default}`"
