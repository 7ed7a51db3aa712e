"""Where the run database lives and how to open it (SQLite file by default, PostgreSQL by URL)."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from agentkit.errors import StorageConfigError
from agentkit.store.dialect import Dialect, dialect_for, file_url

DB_ENV = "AGENTKIT_DB"
DEFAULT_DB = Path("~/.agentkit/agentkit.db")


def resolve_url(db: str | os.PathLike[str] | None = None) -> str:
    """The database URL for `db`: a URL, a file path, or None for `$AGENTKIT_DB` or the default."""
    value = str(db) if db is not None else os.environ.get(DB_ENV) or str(DEFAULT_DB)
    if "://" in value:
        return dialect_for(value).driver_url(value)
    return file_url(str(Path(value).expanduser().resolve()))


def display(url: str) -> str:
    """The URL as messages show it: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def create_db_engine(url: str, dialect: Dialect) -> Engine:
    """An engine with the dialect's options, after the dialect prepared the database."""
    try:
        dialect.prepare(url)
    except OSError as e:
        raise StorageConfigError(
            f"{e}; pass --db PATH (or set {DB_ENV}) to a file in a writable folder",
            problem="not_writable",
        ) from e
    try:
        engine = create_engine(url, **dialect.engine_options)
    except (SQLAlchemyError, ImportError) as e:
        raise StorageConfigError(f"cannot open database {url!r}: {e}") from e
    if dialect.on_connect is not None:
        event.listen(engine, "connect", dialect.on_connect)
    return engine


def explain(error: SQLAlchemyError, url: str, dialect: Dialect) -> StorageConfigError:
    """The error to raise for `error` on opening the database: its real cause, where known."""
    cause = getattr(error, "orig", None) or error
    known = dialect.explain(cause, url)
    if known is None:
        return StorageConfigError(f"database {display(url)!r} cannot be opened: {cause}")
    problem, message = known
    return StorageConfigError(message, problem=problem)
