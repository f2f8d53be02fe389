from pathlib import Path

import pytest

from opsradar.core import ConfigError, InputError, canonical, load_config, parse_tagged


def test_precedence_flags_over_env_over_file(tmp_path: Path) -> None:
    toml = tmp_path / "c.toml"
    toml.write_text('http_port = 9000\ndata_dir = "/tmp/x"\nstatsd_port = 9125\n')
    env = {"OPSRADAR_HTTP_PORT": "9001", "OPSRADAR_DATA_DIR": "/tmp/y"}
    config = load_config({"http_port": 9002, "host": None}, env, toml)
    assert config.http_port == 9002
    assert config.data_dir == "/tmp/y"
    assert config.statsd_port == 9125
    assert config.host == "127.0.0.1"


def test_bad_settings_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="http_port"):
        load_config({"http_port": 70000}, {})
    with pytest.raises(ConfigError, match="unknown setting"):
        (tmp_path / "c.toml").write_text("nope = 1\n")
        load_config({}, {}, tmp_path / "c.toml")
    with pytest.raises(ConfigError, match="threshold"):
        load_config({"threshold": "abc"}, {})
    with pytest.raises(ConfigError, match="percentiles"):
        load_config({"percentiles": "90,x"}, {})


def test_canonical_names_sort_labels_and_reject_junk() -> None:
    assert canonical("a.b", {"z": "1", "a": "2"}) == "a.b;a=2;z=1"
    assert parse_tagged("a.b;z=1;a=2") == "a.b;a=2;z=1"
    for bad in ["", "a..b", ".a", "a b", "a\x00", "x" * 600, "../etc/passwd"]:
        with pytest.raises(InputError):
            canonical(bad)
    with pytest.raises(InputError):
        parse_tagged("a.b;novalue")
