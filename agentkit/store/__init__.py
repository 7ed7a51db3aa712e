"""The run database: SQLAlchemy tables, the repository, migrations and the graph checkpointer."""

from __future__ import annotations

from agentkit.store.checkpointer import open_checkpointer
from agentkit.store.database import DB_ENV, DEFAULT_DB, resolve_url
from agentkit.store.protocol import RunStore
from agentkit.store.records import (
    EventRow,
    MaskedOutput,
    MemoryHit,
    ModelCallRow,
    PlanVersion,
    RunRow,
    SummaryRow,
    ToolCallRow,
)
from agentkit.store.repository import Store
from agentkit.store.run_record import RunRecord

__all__ = [
    "DB_ENV",
    "DEFAULT_DB",
    "EventRow",
    "MaskedOutput",
    "MemoryHit",
    "ModelCallRow",
    "PlanVersion",
    "RunRecord",
    "RunRow",
    "RunStore",
    "Store",
    "SummaryRow",
    "ToolCallRow",
    "open_checkpointer",
    "resolve_url",
]
