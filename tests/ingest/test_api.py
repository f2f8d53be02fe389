"""The public surface of opsradar.ingest."""

from __future__ import annotations

import opsradar.ingest


def test_all_is_exactly_the_public_names() -> None:
    public = {n for n in dir(opsradar.ingest) if not n.startswith("_")}
    assert set(opsradar.ingest.__all__) == public - {"annotations"}
    assert sorted(opsradar.ingest.__all__) == opsradar.ingest.__all__


def test_imports_only_core() -> None:
    import ast
    from pathlib import Path

    for path in Path(opsradar.ingest.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("opsradar."):
                assert node.module.startswith(("opsradar.core", "opsradar.ingest")), path
