"""LangGraph's async SQLite saver with atomic batches of writes.

The saver's connection is in autocommit mode (see `_sqlite.open_checkpointer`), where LangGraph's
`executemany` of one task's writes commits row by row: a kill between two rows kept some of a
task's writes and lost others, for instance the trigger that dispatched the next node, and the
resumed graph then had nothing left to run. Here a task's writes go in one multi-row INSERT, which
SQLite applies all or not at all, still without a transaction held open across an `await`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import WRITES_IDX_MAP
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

_COLUMNS = "thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, value"
# SQLite takes at most 32766 parameters in one statement (9 per row); a task writes a handful.
_MAX_ROWS = 3000


class AtomicSqliteSaver(AsyncSqliteSaver):
    """`AsyncSqliteSaver` whose `aput_writes` stores one task's writes in one statement."""

    async def aput_writes(
        self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str,
        task_path: str = "",
    ) -> None:
        if not writes or len(writes) > _MAX_ROWS:
            await super().aput_writes(config, writes, task_id, task_path)
            return
        # The same rows and conflict rule as LangGraph's own aput_writes.
        verb = "REPLACE" if all(w[0] in WRITES_IDX_MAP for w in writes) else "IGNORE"
        configurable = config["configurable"]
        values: list[Any] = []
        for idx, (channel, value) in enumerate(writes):
            values += [
                str(configurable["thread_id"]), str(configurable["checkpoint_ns"]),
                str(configurable["checkpoint_id"]), task_id, task_path,
                WRITES_IDX_MAP.get(channel, idx), channel, *self.serde.dumps_typed(value),
            ]
        rows = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(writes))
        await self.setup()
        async with self.lock:
            await self.conn.execute(
                f"INSERT OR {verb} INTO writes ({_COLUMNS}) VALUES {rows}", values)
            await self.conn.commit()
