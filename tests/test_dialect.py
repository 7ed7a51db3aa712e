"""One `Dialect` per database family, chosen from the URL; no dialect checks anywhere else."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from agentkit import StorageConfigError, Store
from agentkit.store import resolve_url
from agentkit.store.database import display
from agentkit.store.dialect import POSTGRESQL, SQLITE, dialect_for

ROOT = Path(__file__).resolve().parent.parent / "agentkit"
DIALECT_CODE = {"store/dialect.py", "store/_sqlite.py", "store/_postgresql.py"}


def test_the_url_picks_the_dialect_and_what_it_supports() -> None:
    assert dialect_for("sqlite:////tmp/runs.db") is SQLITE
    assert dialect_for("postgresql+psycopg://u@h/db") is POSTGRESQL
    assert (SQLITE.search, SQLITE.full_text, SQLITE.row_locking) == ("fts5", True, False)
    assert (POSTGRESQL.search, POSTGRESQL.full_text, POSTGRESQL.row_locking) == (
        "tsvector", True, True)
    with pytest.raises(StorageConfigError, match=r"'mysql://u@h/db' is not supported.*sqlite"):
        dialect_for("mysql://u@h/db")


def test_urls_get_the_dialects_driver_and_paths_become_sqlite(tmp_path: Path) -> None:
    assert resolve_url("postgresql://u:pw@h/db") == "postgresql+psycopg://u:pw@h/db"
    assert resolve_url("postgresql+psycopg2://u@h/db") == "postgresql+psycopg2://u@h/db"
    assert resolve_url(tmp_path / "runs.db") == f"sqlite:///{tmp_path / 'runs.db'}"
    assert display("postgresql+psycopg://u:secret@h/db") == "postgresql+psycopg://u:***@h/db"


def test_a_sqlite_store_uses_its_dialect(db: str) -> None:
    store = Store(db)
    assert store.dialect is SQLITE and store.full_text
    store.close()


def test_no_dialect_checks_outside_the_dialect_code() -> None:
    found = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if rel in DIALECT_CODE:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            named = isinstance(node, ast.Constant) and isinstance(node.value, str) and (
                node.value.lower().startswith(("sqlite", "postgres")))
            if named or (isinstance(node, ast.Attribute) and node.attr == "dialect"
                         and isinstance(node.ctx, ast.Load) and _is_name_lookup(node)):
                found.append(f"{rel}:{node.lineno}")
    assert found == []


def _is_name_lookup(node: ast.Attribute) -> bool:
    """`conn.dialect` (SQLAlchemy's dialect object, whose `.name` is the check to avoid)."""
    return isinstance(node.value, ast.Name) and node.value.id in ("conn", "engine", "bind")
