"""The run database: SQLAlchemy tables, the repository, migrations and the graph checkpointer."""

from __future__ import annotations

from agentkit.store.checkpointer import open_checkpointer
from agentkit.store.database import DB_ENV, DEFAULT_DB, resolve_url
from agentkit.store.repository import Store

__all__ = ["DB_ENV", "DEFAULT_DB", "Store", "open_checkpointer", "resolve_url"]
