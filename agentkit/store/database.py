"""Where the run database lives and how to open it (SQLite file by default, PostgreSQL by URL)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError

from agentkit.errors import StorageConfigError

DB_ENV = "AGENTKIT_DB"
DEFAULT_DB = Path("~/.agentkit/agentkit.db")


def resolve_url(db: str | os.PathLike[str] | None = None) -> str:
    """The database URL for `db`: a URL, a file path, or None for `$AGENTKIT_DB` or the default."""
    value = str(db) if db is not None else os.environ.get(DB_ENV) or str(DEFAULT_DB)
    if "://" in value:
        if not value.startswith(("sqlite", "postgresql")):
            raise StorageConfigError(
                f"database URL {value!r} is not supported; use a file path, 'sqlite:///PATH' "
                "or 'postgresql://USER@HOST/DB'"
            )
        return value.replace("postgresql://", "postgresql+psycopg://", 1)
    path = Path(value).expanduser().resolve()
    return f"sqlite:///{path}"


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other databases."""
    if not url.startswith("sqlite"):
        return None
    return Path(url.split(":///", 1)[1])


def check_writable(url: str) -> None:
    """Fail with the path and the fix if a SQLite database cannot be created or written."""
    path = sqlite_path(url)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS agentkit_write_check (x INTEGER)")
            conn.execute("DROP TABLE agentkit_write_check")
    except (OSError, sqlite3.Error) as e:
        raise StorageConfigError(
            f"database {str(path)!r} is not writable ({e}); pass --db PATH (or set {DB_ENV}) "
            "to a file in a writable folder"
        ) from e


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL and a busy timeout let many runs share one file without "database is locked".
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_db_engine(url: str) -> Engine:
    check_writable(url)
    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return create_engine(url, pool_pre_ping=True)
    except (SQLAlchemyError, ImportError) as e:
        raise StorageConfigError(f"cannot open database {url!r}: {e}") from e
