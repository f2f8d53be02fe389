"""Series names: validation and the canonical form of labels.

A series is named by a dotted path, optionally followed by labels in Graphite's
tagged form, sorted by key: ``cpu.user;host=web1;dc=ams`` → ``cpu.user;dc=ams;host=web1``.
"""

from __future__ import annotations

import re

from opsradar.core._errors import InputError

MAX_NAME_LENGTH = 512
_PATH = re.compile(r"^[A-Za-z0-9_\-.:/%@+]+$")
_TAG = re.compile(r"^[A-Za-z0-9_\-.:/%@+]+$")
_TAG_VALUE = re.compile(r"^[^;~!\s\x00-\x1f]+$")


def canonical(path: str, labels: dict[str, str] | None = None) -> str:
    """Return the canonical series name, or raise InputError with the reason.

    >>> canonical("cpu.user", {"host": "web1", "dc": "ams"})
    'cpu.user;dc=ams;host=web1'
    """
    if not path or len(path) > MAX_NAME_LENGTH:
        raise InputError("name is empty or too long")
    if not _PATH.match(path) or ".." in path or path.startswith(".") or path.endswith("."):
        raise InputError(f"invalid series name {path[:80]!r}")
    if not labels:
        return path
    parts = [path]
    for key in sorted(labels):
        value = labels[key]
        if not _TAG.match(key) or not _TAG_VALUE.match(value):
            raise InputError(f"invalid label {key[:40]!r}={value[:40]!r}")
        parts.append(f"{key}={value}")
    name = ";".join(parts)
    if len(name) > MAX_NAME_LENGTH:
        raise InputError("name with labels is too long")
    return name


def parse_tagged(name: str) -> str:
    """Canonicalise a Graphite tagged name ``path;k=v;...``.

    >>> parse_tagged("disk.used;host=a;dc=x")
    'disk.used;dc=x;host=a'
    """
    path, _, rest = name.partition(";")
    labels: dict[str, str] = {}
    if rest:
        for item in rest.split(";"):
            key, eq, value = item.partition("=")
            if not eq or not key or not value:
                raise InputError(f"invalid tag {item[:40]!r}")
            labels[key] = value
    return canonical(path, labels)


def split(name: str) -> tuple[str, dict[str, str]]:
    """Split a canonical name into its path and labels."""
    path, _, rest = name.partition(";")
    labels = dict(item.split("=", 1) for item in rest.split(";")) if rest else {}
    return path, labels
