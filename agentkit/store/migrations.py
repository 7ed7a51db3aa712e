"""An ordered list of schema migrations, each applied once and recorded.

Add a migration by appending a function; never edit one that has shipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Connection, select

from agentkit.store import tables


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


MIGRATIONS: list[Callable[[Connection], None]] = [_v1_initial]


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
