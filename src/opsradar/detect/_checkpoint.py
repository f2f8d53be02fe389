"""Detector state to and from an ``.npz`` file, written atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from opsradar.core import InputError
from opsradar.detect._engine import Engine


def save_checkpoint(engine: Engine, path: str | os.PathLike[str]) -> None:
    """Write the engine's state to ``path`` (.npz); a crash never leaves half a file."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".ckpt-", suffix=".npz", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **engine.state_dict())  # type: ignore[arg-type]
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_checkpoint(path: str | os.PathLike[str], engine: Engine | None = None) -> Engine:
    """Restore state saved by ``save_checkpoint`` into ``engine`` (a new one by default)."""
    engine = engine if engine is not None else Engine()
    try:
        with np.load(path, allow_pickle=False) as z:
            engine.load_state_dict({k: z[k] for k in z.files})
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"checkpoint {path}: {exc}") from exc
    return engine
