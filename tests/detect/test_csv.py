"""Bad input handling of ``detect_csv`` / ``python -m opsradar.detect`` (documented in _csv)."""

import io
import subprocess
import sys

import pytest

from opsradar.core import InputError
from opsradar.detect import detect_csv


def _run(text: str) -> list[list[str]]:
    out = io.StringIO()
    detect_csv(io.StringIO(text), out)
    return [line.split(",") for line in out.getvalue().splitlines()[1:]]


def _series(n: int = 60) -> str:
    return "".join(f"2014-04-01 {i // 60:02d}:{i % 60:02d}:00,{10 + i % 3}\n" for i in range(n))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no data rows"),
        ("timestamp,value\n", "no data rows"),
        ("timestamp,value\n1,2\n2,abc\n", "line 3: value 'abc' is not a number"),
        ("1,2\nyesterday,3\n", "line 2: bad timestamp 'yesterday'"),
        ("timestamp,value\n1\n", "line 2: expected 'timestamp,value'"),
    ],
)
def test_bad_input_is_a_clear_input_error(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        detect_csv(io.StringIO(text), io.StringIO())


def test_header_is_optional_and_timestamps_are_echoed() -> None:
    with_header = _run("timestamp,value\n" + _series())
    without = _run(_series())
    assert with_header == without
    assert with_header[0][0] == "2014-04-01 00:00:00"
    unix = _run("".join(f"{1396310400 + 60 * i},{10 + i % 3}\n" for i in range(60)))
    assert [r[2:] for r in unix] == [r[2:] for r in without]


def test_missing_values_score_zero_and_keep_their_row() -> None:
    rows = _run(
        "timestamp,value\n" + _series(40) + "2014-04-01 00:40:00,nan\n"
        "2014-04-01 00:41:00,\n2014-04-01 00:42:00,inf\n2014-04-01 00:43:00,11\n"
    )
    assert len(rows) == 44
    assert [r[2:] for r in rows[40:43]] == [["0.000000", "0"]] * 3
    assert rows[40][1] == "nan"


def test_duplicate_and_out_of_order_timestamps_are_scored_in_file_order() -> None:
    notes: list[str] = []
    text = "timestamp,value\n1,1\n2,1\n2,1\n1,1\n3,1\n"
    out = io.StringIO()
    assert detect_csv(io.StringIO(text), out, notes=notes) == 5
    assert notes == [
        "line 4: duplicate timestamp '2', scored in file order",
        "line 5: out-of-order timestamp '1', scored in file order",
    ]


def test_module_cli_exit_codes(tmp_path: object) -> None:
    bad = subprocess.run(
        [sys.executable, "-m", "opsradar.detect", "-"],
        input="timestamp,value\n1,x\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2 and "line 2: value 'x' is not a number" in bad.stderr
    good = subprocess.run(
        [sys.executable, "-m", "opsradar.detect", "-"],
        input=_series(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert good.returncode == 0
    assert good.stdout.splitlines()[0] == "timestamp,value,anomaly_score,anomaly"
