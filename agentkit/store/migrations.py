"""An ordered list of schema migrations, each applied once and recorded.

Add a migration by appending a function; never edit one that has shipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Connection, inspect, select
from sqlalchemy.exc import OperationalError

import agentkit.store.tables as tables


def _v1_initial(conn: Connection) -> None:
    for table in (
        tables.runs,
        tables.plan_versions,
        tables.subtasks,
        tables.events,
        tables.model_calls,
        tables.tool_calls,
    ):
        table.create(conn, checkfirst=True)
    for index in (
        *tables.events.indexes,
        *tables.model_calls.indexes,
        *tables.tool_calls.indexes,
        *tables.runs.indexes,
    ):
        index.create(conn, checkfirst=True)


# The full-text index of the context manager's memory (SQLite only; others search with LIKE).
FTS_TABLE = "memory_fts"


def _v2_context_memory(conn: Connection) -> None:
    for table in (tables.summaries, tables.facts, tables.masked_outputs):
        table.create(conn, checkfirst=True)
    for index in (*tables.summaries.indexes, *tables.masked_outputs.indexes):
        index.create(conn, checkfirst=True)
    if conn.dialect.name != "sqlite":
        return
    try:
        with conn.begin_nested():  # a SQLite built without FTS5 refuses; search falls back to LIKE
            conn.exec_driver_sql(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
                "body, kind UNINDEXED, ref UNINDEXED, run_id UNINDEXED, at UNINDEXED)"
            )
    except OperationalError:
        pass


def _v3_request_deltas(conn: Connection) -> None:
    present = {c["name"] for c in inspect(conn).get_columns("model_calls")}
    for name in ("prefix_id", "prefix_len"):
        if name not in present:  # a database made by v1 before the columns existed
            conn.exec_driver_sql(f"ALTER TABLE model_calls ADD COLUMN {name} INTEGER")


MIGRATIONS: list[Callable[[Connection], None]] = [
    _v1_initial, _v2_context_memory, _v3_request_deltas
]


def migrate(conn: Connection) -> int:
    """Apply the migrations this database has not seen; return the schema version."""
    tables.schema_version.create(conn, checkfirst=True)
    applied = {row[0] for row in conn.execute(select(tables.schema_version.c.version))}
    for number, migration in enumerate(MIGRATIONS, start=1):
        if number not in applied:
            migration(conn)
            conn.execute(
                tables.schema_version.insert().values(version=number, applied_at=time.time())
            )
    return len(MIGRATIONS)
