"""LangGraph's own checkpointer for the run database, so a graph can resume where it stopped."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

from agentkit.store.dialect import dialect_for


def open_checkpointer(url: str) -> AbstractAsyncContextManager[Any]:
    """A ready LangGraph checkpointer writing to the same database as the run records.

    Use as `async with open_checkpointer(store.url) as saver:`; the dialect picks the saver.
    """
    return dialect_for(url).checkpointer(url)
