"""Data moves one way: a stage imports only core and the stages upstream of it."""

import ast
from pathlib import Path

import pytest

import opsradar.core
from opsradar.core import SETTINGS, settings_markdown

SRC = Path(__file__).resolve().parents[1] / "src" / "opsradar"
ORDER = ["core", "ingest", "store", "detect", "rank", "web"]
ALLOWED = {stage: set(ORDER[: i + 1]) for i, stage in enumerate(ORDER)}
ALLOWED["simulate"] = {"core", "simulate"}  # a client of the server, not a stage
WIRING = {"server.py", "cli.py", "demo.py", "importer.py", "__init__.py", "__main__.py"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "opsradar" and len(parts) > 1:
                found.add(parts[1])
    return found


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        if len(rel.parts) == 1:
            assert rel.name in WIRING, f"unexpected top-level module {rel}"
            continue
        out.append((rel.parts[0], path))
    return out


@pytest.mark.parametrize(("stage", "path"), _modules(), ids=lambda x: str(x))
def test_stage_imports_only_upstream(stage: str, path: Path) -> None:
    assert stage in ALLOWED, f"{stage} is not a known stage"
    bad = _imports(path) - ALLOWED[stage]
    assert not bad, f"{path.relative_to(SRC)} imports downstream stages {sorted(bad)}"


def test_every_stage_exists() -> None:
    for stage in ORDER:
        assert (SRC / stage / "__init__.py").exists()


def test_core_all_is_curated() -> None:
    for name in opsradar.core.__all__:
        assert hasattr(opsradar.core, name)
    public = {n for n in dir(opsradar.core) if not n.startswith("_")}
    assert set(opsradar.core.__all__) <= public


def test_every_setting_is_documented() -> None:
    doc = (SRC.parents[1] / "docs" / "configuration.md").read_text()
    assert doc == settings_markdown(), "run: python -m opsradar.core > docs/configuration.md"
    for setting in SETTINGS:
        assert setting.help.strip(), setting.name
