"""Checkpoint writes of one task commit together, and a resume always moves."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from agentkit import Agent, FunctionModel, load_tools
from agentkit.store import Store
from tests.scripts import HELLO_GOAL, hello_agent, hello_primes

ROOT = Path(__file__).resolve().parent.parent

# Killed by SQLite itself in the middle of one task's batch of checkpoint writes: the dispatch
# node's trigger of the monitor, after its first writes (the statuses) are inserted. Its
# subtask tasks' results are batches of their own, already committed.
KILLED_MID_BATCH = """
import os, signal, sys
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from tests.scripts import hello_agent

original = AsyncSqliteSaver.setup

async def setup(self):
    await original(self)
    if not getattr(self, "armed", False):
        self.armed = True
        await self.conn.create_function("die", 0, lambda: os.kill(os.getpid(), signal.SIGKILL))
        await self.conn.execute(
            "CREATE TEMP TRIGGER die_mid_batch BEFORE INSERT ON writes "
            "WHEN NEW.idx > 0 AND NEW.channel = 'branch:to:monitor' "
            "AND NEW.task_path = '~__pregel_pull, dispatch' BEGIN SELECT die(); END")

AsyncSqliteSaver.setup = setup
hello_agent(sys.argv[1], __import__("pathlib").Path(sys.argv[2])).run_sync(sys.argv[3])
"""


async def test_a_kill_inside_a_batch_of_checkpoint_writes_loses_the_whole_batch(
    db: str, workspace: Path
) -> None:
    done = subprocess.run([sys.executable, "-c", KILLED_MID_BATCH, db, str(workspace), HELLO_GOAL],
                          cwd=ROOT, capture_output=True, text=True,
                          env={"AGENTKIT_ALLOW_MODEL_REQUESTS": "0", "PATH": "/usr/bin:/bin"})
    assert done.returncode == -9, done.stderr
    with sqlite3.connect(db) as conn:
        dispatch_writes = conn.execute(
            "SELECT channel FROM writes WHERE task_path = '~__pregel_pull, dispatch'").fetchall()
        subtask_results = conn.execute(
            "SELECT channel FROM writes WHERE task_path LIKE '~__pregel_push%'").fetchall()
    assert dispatch_writes == []  # not the statuses without the trigger that follows them
    assert subtask_results == [("__return__",), ("__return__",)]  # each subtask's own result
    run_id = Store(db).list_runs()[0].id

    result = await hello_agent(db, workspace).resume(run_id)

    assert result.status == "completed"
    assert [c.name for c in Store(db).get_tool_calls(run_id)].count("write_file") == 1


async def test_a_resume_with_nothing_left_to_run_repairs_the_dispatch(
    db: str, workspace: Path
) -> None:
    first = await hello_agent(db, workspace).run(HELLO_GOAL)
    store = Store(db)
    # A run whose checkpoint says "nothing to run" while its record says "running": the state a
    # lost checkpoint write left behind.
    store.finish_run(first.run_id, "running", answer=None)

    model = FunctionModel(hello_primes)
    agent = Agent(model, tools=[load_tools("files"), load_tools("shell")], db=db,
                  workspace=workspace)
    result = await agent.resume(first.run_id)

    assert result.status == "completed" and result.answer == first.answer
    assert model.requests == []  # no subtask ran again; the answer was served from the record
    assert len(store.get_tool_calls(first.run_id)) == len(first.subtasks) * 2
    assert "dispatch_repaired" in [e.kind for e in store.get_events(first.run_id)]
