"""The run database: the `RunStore` protocol, its typed rows, `Store` (SQLAlchemy) and the
per-run `RunRecord`, named migrations, one `Dialect` per database, the graph checkpointer."""

from __future__ import annotations

from agentkit.store.checkpointer import open_checkpointer
from agentkit.store.database import DB_ENV, DEFAULT_DB, resolve_url
from agentkit.store.dialect import Dialect, dialect_for
from agentkit.store.protocol import RunStore
from agentkit.store.records import (
    EventRow,
    FactRow,
    MaskedOutput,
    MemoryHit,
    ModelCallRow,
    PlanVersion,
    RunAgent,
    RunRow,
    SummaryRow,
    ToolCallRow,
)
from agentkit.store.repository import Store, new_run_id
from agentkit.store.run_record import RunRecord

__all__ = [
    "DB_ENV",
    "DEFAULT_DB",
    "Dialect",
    "EventRow",
    "FactRow",
    "MaskedOutput",
    "MemoryHit",
    "ModelCallRow",
    "PlanVersion",
    "RunAgent",
    "RunRecord",
    "RunRow",
    "RunStore",
    "Store",
    "SummaryRow",
    "ToolCallRow",
    "dialect_for",
    "new_run_id",
    "open_checkpointer",
    "resolve_url",
]
