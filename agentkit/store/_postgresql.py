"""PostgreSQL specifics: LangGraph's PostgreSQL saver on the run database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Connection, text

from agentkit.errors import StorageConfigError

# The key of the advisory lock migration runs take, the same in every agentkit process.
SCHEMA_LOCK = 0x6167656E746B6974  # "agentkit"


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
        await saver.setup()
        yield saver
