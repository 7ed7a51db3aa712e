"""SQLite specifics: the file behind the URL, connection pragmas, LangGraph's SQLite saver."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any


def path(url: str) -> Path:
    """The file behind a `sqlite:///PATH` URL."""
    return Path(url.split(":///", 1)[1])


def check_writable(url: str) -> None:
    """Create the file's folder; raise `PermissionError` naming the file if it is not writable."""
    file = path(url)
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(file) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS agentkit_write_check (x INTEGER)")
            conn.execute("DROP TABLE agentkit_write_check")
    except (OSError, sqlite3.Error) as e:
        raise PermissionError(f"database {str(file)!r} is not writable ({e})") from e


def pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL and a busy timeout let many runs share one file without "database is locked".
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@asynccontextmanager
async def open_checkpointer(url: str) -> AsyncIterator[Any]:
    """LangGraph's async SQLite saver on the run database's file."""
    import aiosqlite

    from agentkit.store._sqlite_saver import AtomicSqliteSaver

    # Autocommit: the saver's write transaction must not stay open across an `await`, or a
    # synchronous write of the store in the same event loop waits on it and deadlocks.
    conn = await aiosqlite.connect(str(path(url)), timeout=30, isolation_level=None)
    try:
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA busy_timeout=30000")
        saver = AtomicSqliteSaver(conn)
        await saver.setup()
        yield saver
    finally:
        await conn.close()
