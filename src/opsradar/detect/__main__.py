"""``python -m opsradar.detect [FILE|-]``: score a CSV series (same as ``opsradar detect``)."""

from __future__ import annotations

import sys

from opsradar.core import InputError
from opsradar.detect._csv import detect_csv


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = args[0] if args else "-"
    notes: list[str] = []
    try:
        if path == "-":
            detect_csv(sys.stdin, sys.stdout, notes=notes)
        else:
            with open(path, newline="") as f:
                detect_csv(f, sys.stdout, notes=notes)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {path}: {exc.strerror}", file=sys.stderr)
        return 2
    for note in notes[:10]:
        print(f"note: {note}", file=sys.stderr)
    if len(notes) > 10:
        print(f"note: ... and {len(notes) - 10} more", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
