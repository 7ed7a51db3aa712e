"""A stall means something: rounds of work that finish subtasks with nothing new trigger a
revision (trigger `stall`), even though every subtask ends `done`."""

from __future__ import annotations

from pathlib import Path

from agentkit import Agent, FunctionModel, ModelRequest, Plan, PlanStep, Store, ToolCall
from agentkit.planning import monitor
from agentkit.planning.horizon import PlanExtension
from agentkit.schema import Subtask
from tests.scripts import subtask_title

LOOK = Plan(strategy="look at the logs until the cause shows", continues=True,
            steps=[PlanStep(id="look", title="Look at the logs", difficulty="easy")])
ASK = Plan(strategy="ask the owner instead", steps=[
    PlanStep(id="ask", title="Ask the owner", difficulty="easy")])


def busy_but_useless() -> FunctionModel:
    """Keeps extending the plan with one more look, each finishing with a different-looking
    result that says nothing new; a revision asks the owner instead."""
    looks = 0

    def reply(request: ModelRequest) -> object:
        nonlocal looks
        if request.role == "finalizer":
            return "asked the owner"
        if request.role == "strategist":
            schema = (request.output_schema or {}).get("title")
            if schema == "PlanExtension":
                return PlanExtension(continues=True, steps=[PlanStep(
                    id=f"look{looks}", title=f"Look at the logs again ({looks})",
                    difficulty="easy")])
            return ASK if any("stall" in str(m["content"]) or "rounds of work" in
                              str(m["content"]) for m in request.messages) else LOOK
        if subtask_title(request) == "Ask the owner":
            return ToolCall(name="finish", arguments={"result": "the owner says: disk full"})
        looks += 1
        return ToolCall(name="finish", arguments={
            "result": f"Looked through the service logs once more (pass {looks}); "
                      "nothing conclusive so far"})

    return FunctionModel(reply)


async def test_different_but_useless_results_trigger_a_stall_revision(
    db: str, workspace: Path
) -> None:
    result = await Agent(busy_but_useless(), db=db, workspace=workspace).run("Find the cause")

    assert result.status == "completed", result.error
    plans = Store(db).plan_versions(result.run_id)
    triggers = [p.trigger for p in plans]
    assert triggers == ["initial", "extend", "extend", "extend", "stall"]
    assert "rounds of work finished no subtask with a new result" in plans[-1].reason
    assert result.subtasks[-1].result == "the owner says: disk full"


def _done(sid: str, result: str) -> Subtask:
    return Subtask(id=sid, step_id=sid, plan_version=1, title=sid, status="done", result=result)


def test_progress_is_a_new_result_or_a_new_fact() -> None:
    earlier = [_done("t1", "Looked through the service logs (pass 1): nothing conclusive yet")]
    same = [_done("t2", "Looked through the service logs (pass 2): nothing conclusive yet")]
    new = [_done("t3", "Found it: the disk is full")]
    assert not monitor.progressed(same, earlier, new_facts=False)
    assert monitor.progressed(same, earlier, new_facts=True)
    assert monitor.progressed(new, earlier, new_facts=False)
    # Numbers are information: a count that changed is a new result.
    assert not monitor.repeats("12 units done", ["14 units done"])
    assert not monitor.repeats("unit done for Window 1 step 2", ["unit done for Window 1 step 1"])
