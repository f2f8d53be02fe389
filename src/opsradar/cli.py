"""The ``opsradar`` command: serve, demo, detect."""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Callable
from typing import Any, TextIO

import click

from opsradar.core import Config, ConfigError, InputError, OpsradarError, load_config


def _server_options(f: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--config", "config_file", type=click.Path(dir_okay=False), help="TOML settings file."
        ),
        click.option("--host", help="Address every listener binds to (default 127.0.0.1)."),
        click.option("--data-dir", help="Data directory (default ./opsradar-data)."),
        click.option("--http-port", type=int, help="Web, API and /metrics port (default 8080)."),
        click.option("--statsd-port", type=int, help="StatsD UDP port (default 8125, -1 off)."),
        click.option("--graphite-port", type=int, help="Graphite TCP port (default 2003, -1 off)."),
        click.option("--statsd-tcp-port", type=int, help="StatsD TCP port (default 8125, -1 off)."),
        click.option(
            "--graphite-udp-port", type=int, help="Graphite UDP port (default 2003, -1 off)."
        ),
        click.option(
            "--pickle-port", type=int, help="Graphite pickle port (default 2004, -1 off)."
        ),
        click.option("--scrape-targets", help="Prometheus URLs to scrape, comma separated."),
        click.option("--scrape-interval", type=float, help="Seconds between scrapes (default 15)."),
        click.option("--flush-interval", type=float, help="StatsD flush interval in seconds."),
        click.option("--detector", help="Registered detector name (default 'opsradar')."),
        click.option("--threshold", type=float, help="Default policy threshold in (0, 1]."),
        click.option(
            "--insecure",
            is_flag=True,
            default=None,
            help="Allow a non-loopback --host without write and admin tokens.",
        ),
        click.option(
            "--set",
            "settings",
            multiple=True,
            metavar="NAME=VALUE",
            help="Any setting of docs/configuration.md, e.g. --set max_series=50000.",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _config(config_file: str | None, settings: tuple[str, ...] = (), **flags: Any) -> Config:
    for item in settings:  # --set name=value: settings without a flag of their own
        name, eq, value = item.partition("=")
        key = name.strip().replace("-", "_")
        if not eq or not key:
            raise click.UsageError(f"--set {item!r}: expected NAME=VALUE")
        if flags.get(key) is None:
            flags[key] = value
    try:
        return load_config(flags=flags, toml_path=config_file)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc


def _announce(ports: dict[str, int], host: str) -> None:
    parts = " ".join(f"{k}={v}" for k, v in sorted(ports.items()))
    click.echo(f"opsradar listening on {host}: {parts}", err=True)
    click.echo(f"board: http://{host}:{ports.get('http')}/", err=True)


def _run_server(config: Config, after_start: Callable[[Any], None] | None = None) -> None:
    from opsradar.server import Server  # the wiring imports every stage; keep `detect` light

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        server = Server(config)
        server.start()
    except (OpsradarError, OSError) as exc:
        click.echo(f"opsradar: cannot start: {exc}", err=True)
        sys.exit(1)
    _announce(server.ports, config.host)
    if after_start is not None:
        after_start(server)
    server.serve()  # returns after a clean stop: points flushed, state checkpointed, files closed
    # Skip the interpreter's teardown of a large heap (~0.4 s at 100,000 series, measured in
    # bench/ingest): nothing is left to write.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


@click.group()
@click.version_option(package_name="opsradar")
def main() -> None:
    """opsradar: metrics in, anomalies scored as they arrive, what matters now out."""


@main.command()
@_server_options
def serve(config_file: str | None, **flags: Any) -> None:
    """Run the server: StatsD, Graphite, HTTP API and the board."""
    _run_server(_config(config_file, **flags))


@main.command()
@_server_options
@click.option("--seed", type=int, default=1, show_default=True, help="Simulation seed.")
@click.option("--hosts", type=int, default=200, show_default=True, help="Simulated hosts.")
@click.option("--backfill-hours", type=float, default=6.0, show_default=True)
def demo(
    config_file: str | None, seed: int, hosts: int, backfill_hours: float, **flags: Any
) -> None:
    """Run the server fed by a simulated fleet (hosts, services, deploys, incidents).

    Without --data-dir the demo writes to a new temporary directory: its six hours of
    backfilled history never mix with a real data directory or with an earlier demo."""
    if flags.get("flush_interval") is None:
        flags["flush_interval"] = 10.0
    config = _config(config_file, **flags)
    if (
        flags.get("data_dir") is None
        and config_file is None
        and "OPSRADAR_DATA_DIR" not in os.environ
    ):
        config = dataclasses.replace(config, data_dir=tempfile.mkdtemp(prefix="opsradar-demo-"))
        click.echo(f"demo data: {config.data_dir}", err=True)

    def feed(server: Any) -> None:
        from opsradar.demo import start_demo_traffic

        thread = threading.Thread(
            target=start_demo_traffic,
            args=(server, seed, hosts, backfill_hours),
            name="demo-fleet",
            daemon=True,
        )
        thread.start()

    _run_server(config, after_start=feed)


@main.command()
@click.argument("file", type=click.File("r"), default="-")
@click.option("--threshold", type=float, default=0.5, show_default=True, help="Policy threshold.")
def detect(file: TextIO, threshold: float) -> None:
    """Score a CSV `timestamp,value` (FILE or - for stdin); print
    `timestamp,value,anomaly_score,anomaly` with the server's own detector."""
    from opsradar.detect import detect_csv

    notes: list[str] = []
    try:
        detect_csv(file, sys.stdout, threshold=threshold, notes=notes)
    except InputError as exc:
        click.echo(f"opsradar detect: {exc}", err=True)
        sys.exit(2)
    for note in notes[:10]:
        click.echo(f"opsradar detect: note: {note}", err=True)
    if len(notes) > 10:
        click.echo(f"opsradar detect: note: ... and {len(notes) - 10} more", err=True)


@main.command(name="import")
@click.argument("file", default="-")
@click.option("--server", default="http://127.0.0.1:8080", show_default=True, help="opsradar URL.")
@click.option(
    "--format", "fmt", type=click.Choice(["auto", "csv", "graphite"]), default="auto",
    show_default=True, help="CSV `name,timestamp,value` (or `timestamp,value` with --name), "
    "or Graphite lines `path value timestamp`.",
)  # fmt: skip
@click.option("--name", help="Series name for a two-column CSV `timestamp,value`.")
@click.option(
    "--token", envvar="OPSRADAR_WRITE_TOKEN", help="Write token, if the server needs one."
)
def import_(file: str, server: str, fmt: str, name: str | None, token: str | None) -> None:
    """Bulk-load a CSV or Graphite-line FILE (or - for stdin) into a running server, with a
    progress bar. Bad lines are skipped and reported with their line numbers (exit 1)."""
    import httpx
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    from opsradar.importer import import_file, open_text

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        size = os.path.getsize(file) if file != "-" else None
        stream = open_text(file)
    except OSError as exc:
        raise click.ClickException(f"{file}: {exc.strerror}") from exc
    columns = (*Progress.get_default_columns()[:1], BarColumn(), DownloadColumn())
    with (
        stream,
        httpx.Client(base_url=server, headers=headers, timeout=60) as client,
        Progress(*columns, TimeRemainingColumn(), transient=True) as bar,
    ):
        task = bar.add_task(f"importing {file}", total=size)
        try:
            report = import_file(stream, client, fmt, name, lambda n: bar.advance(task, n))
        except (InputError, httpx.HTTPError) as exc:
            click.echo(f"opsradar import: {exc}", err=True)
            sys.exit(2)
    click.echo(f"imported {report.points} points from {file}", err=True)
    if report.bad:
        reasons = ", ".join(f"{n} {reason}" for reason, n in report.bad.most_common())
        click.echo(f"skipped {sum(report.bad.values())} bad lines: {reasons}", err=True)
        for example in report.examples:
            click.echo(f"  {example}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
