"""PostgreSQL specifics: LangGraph's PostgreSQL saver on the run database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Connection, text

from agentkit.errors import StorageConfigError

# The key of the advisory lock migration runs take, the same in every agentkit process.
SCHEMA_LOCK = 0x6167656E746B6974  # "agentkit"
CHECKPOINT_LOCK = SCHEMA_LOCK + 1  # the LangGraph saver's own migrations


def lock_schema(conn: Connection) -> None:
    """Make migration runs on one database take turns; the lock ends with the transaction."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})


@asynccontextmanager
async def open_checkpointer(url: str) -> AsyncIterator[Any]:
    """LangGraph's async PostgreSQL saver, connected with psycopg's own URL form."""
    try:
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    except ImportError as e:
        raise StorageConfigError(
            f"database {url!r} needs the postgres extra: pip install 'agentkit[postgres]'"
        ) from e
    scheme, rest = url.split("://", 1)
    async with AsyncPostgresSaver.from_conn_string(f"{scheme.split('+')[0]}://{rest}") as saver:
        await _setup_in_turn(saver)
        yield saver


async def _setup_in_turn(saver: Any) -> None:
    """The saver's migrations, one process at a time: run together, two processes inserted the
    same migration row (UniqueViolation) or deadlocked on its CREATE INDEX CONCURRENTLY.

    The lock is polled with `pg_try_advisory_lock`, not waited for: a session blocked in
    `pg_advisory_lock` is an open transaction, which CREATE INDEX CONCURRENTLY in the process
    holding the lock waits for (the deadlock again).
    """
    import asyncio

    conn = saver.conn  # autocommit: each statement is its own short transaction (dict rows)
    while True:
        cursor = await conn.execute("SELECT pg_try_advisory_lock(%s) AS locked",
                                    (CHECKPOINT_LOCK,))
        if (await cursor.fetchone())["locked"]:
            break
        await asyncio.sleep(0.05)
    try:
        await saver.setup()
    finally:
        await conn.execute("SELECT pg_advisory_unlock(%s)", (CHECKPOINT_LOCK,))
