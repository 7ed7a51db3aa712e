"""Done means done without a check command too: with a `verifier` model, a cheap verifier call
judges each result against the success criteria; a rejection goes back to the executor."""

from __future__ import annotations

from pathlib import Path

from agentkit import Agent, FunctionModel, ModelRequest, Plan, PlanStep, Store, ToolCall
from agentkit.execution.verifier import Verdict

PLAN = Plan(strategy="count the files", steps=[PlanStep(
    id="s1", title="Count the files", difficulty="easy",
    success_criteria="the result gives the number of files")])


def counter(request: ModelRequest) -> object:
    """An executor whose first result has no number; it adds one once told why."""
    if request.role == "strategist":
        return PLAN
    if request.role == "finalizer":
        return "counted"
    told = [m["content"] for m in request.messages if m["role"] == "tool"]
    if not told:
        return ToolCall(name="finish", arguments={"result": "I looked at the files"})
    return ToolCall(name="finish", arguments={"result": "there are 3 files"})


def judge(request: ModelRequest) -> object:
    result = request.messages[-1]["content"].rsplit("Reported result:\n", 1)[-1]
    if any(ch.isdigit() for ch in result):
        return Verdict(accepted=True, reason="it gives the number")
    return Verdict(accepted=False, reason="the result gives no number of files")


async def test_a_rejected_result_goes_back_with_the_reason_and_verdicts_are_recorded(
    db: str, workspace: Path
) -> None:
    executor, verifier = FunctionModel(counter), FunctionModel(judge)
    agent = Agent(executor, roles={"verifier": verifier}, db=db, workspace=workspace)

    result = await agent.run("Count the files")

    assert result.status == "completed", result.error
    (only,) = result.subtasks
    assert (only.status, only.result) == ("done", "there are 3 files")
    events = Store(db).get_events(result.run_id)
    verdicts = [(e.data["accepted"], e.data["reason"]) for e in events if e.kind == "verdict"]
    assert verdicts == [(False, "the result gives no number of files"),
                        (True, "it gives the number")]
    second = [r for r in executor.requests if r.role == "executor"][-1]
    told = [m["content"] for m in second.messages if m["role"] == "tool"]
    assert "the verifier says: the result gives no number of files" in told[-1]
    assert [r.role for r in verifier.requests] == ["verifier", "verifier"]


async def test_without_a_verifier_model_no_result_is_judged(db: str, workspace: Path) -> None:
    executor = FunctionModel(counter)
    result = await Agent(executor, db=db, workspace=workspace).run("Count the files")

    assert result.subtasks[0].result == "I looked at the files"
    assert "verifier" not in [r.role for r in executor.requests]
