"""LangGraph's own checkpointer for the run database, so a graph can resume where it stopped."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from agentkit.errors import StorageConfigError
from agentkit.store.database import sqlite_path


@asynccontextmanager
async def open_checkpointer(url: str) -> AsyncIterator[Any]:
    """Yield a ready LangGraph checkpointer writing to the same database as the run records."""
    path = sqlite_path(url)
    if path is not None:
        import aiosqlite
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        # Autocommit: the saver's write transaction must not stay open across an `await`, or a
        # synchronous write of the store in the same event loop waits on it and deadlocks.
        conn = await aiosqlite.connect(str(path), timeout=30, isolation_level=None)
        try:
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA busy_timeout=30000")
            saver = AsyncSqliteSaver(conn)
            await saver.setup()
            yield saver
        finally:
            await conn.close()
        return
    try:
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    except ImportError as e:
        raise StorageConfigError(
            f"database {url!r} needs the postgres extra: pip install 'agentkit[postgres]'"
        ) from e
    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    async with AsyncPostgresSaver.from_conn_string(plain) as pg_saver:
        await pg_saver.setup()
        yield pg_saver
