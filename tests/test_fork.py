"""Fork: a new run from a plan version, carrying the work done up to it."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentkit import Agent, Budget, UserError, load_tools
from agentkit.store import Store
from tests.test_strategy import BROKEN, FIXED, GOAL, WRITE, Plan, worker


async def test_fork_from_a_plan_version_keeps_done_work(db: str, workspace: Path) -> None:
    first = Plan(strategy="broken", steps=[WRITE, BROKEN])
    second = Plan(strategy="working", steps=[WRITE, FIXED])
    tools = [load_tools("files"), load_tools("shell")]
    budget = Budget(merge_below_tokens=0)  # each trivial step on its own
    original = await Agent(worker([first, second]), tools=tools, db=db, workspace=workspace,
                           budget=budget).run(GOAL)
    assert original.plan_version == 2

    model = worker([second])
    forked = await Agent(model, tools=tools, db=db, workspace=workspace).fork(original.run_id, 1)

    assert forked.status == "completed"
    store = Store(db)
    assert store.get_run(forked.run_id).parent_run_id == original.run_id
    versions = store.plan_versions(forked.run_id)
    assert [(v.trigger, [s.id for s in v.plan.steps]) for v in versions] == [
        ("fork", ["s1", "s2"]), ("failure", ["s3"])]  # s1, done, is archived by the revision
    # s1 was done under version 1 of the original: carried over, never executed again.
    assert [(s.step_id, s.status) for s in forked.subtasks] == [
        ("s1", "done"), ("s2", "failed"), ("s3", "done")]
    carried = forked.subtasks[0].id
    executed = {r.subtask_id for r in model.requests if r.role == "executor"}
    assert carried not in executed and len(executed) == 2
    assert (workspace / "result.txt").read_text() == "ok"


def test_fork_of_a_missing_version(db: str, workspace: Path) -> None:
    from tests.scripts import hello_agent

    agent = hello_agent(db, workspace)
    run_id = agent.run_sync("Create hello.py that prints the first 10 primes, then run it").run_id
    with pytest.raises(UserError, match=r"has no plan version 7; it has \[1\]"):
        agent.fork_sync(run_id, 7)
