"""The run's seams: one path for every tool call, one for every event, budgets that hold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agentkit import (
    Agent,
    Budget,
    FunctionModel,
    ModelRequest,
    Plan,
    PlanStep,
    ToolCall,
    ToolContext,
    ToolDefinitionError,
    tool,
)
from agentkit.store import Store
from tests.scripts import tool_results

Seen = list[tuple[str, str | None]]


def listener(seen: Seen) -> Any:
    return lambda kind, data: seen.append((kind, data["subtask_id"]))


def logged(db: str, run_id: str) -> Seen:
    return [(e.kind, e.subtask_id) for e in Store(db).get_events(run_id)]


@tool
def note(text: str, ctx: ToolContext) -> str:
    """Append a line to notes.txt.

    Args:
        text: the line.
    """
    with open(ctx.resolve("notes.txt"), "a") as f:
        f.write(text + "\n")
    return "noted"


@tool(needs_approval=True)
def deploy(target: str) -> str:
    """Deploy (needs approval).

    Args:
        target: where.
    """
    return f"deployed to {target}"


def note_then_deploy(request: ModelRequest) -> object:
    if request.role == "strategist":
        return Plan(strategy="note, deploy", steps=[PlanStep(id="s1", title="Ship it")])
    if request.role == "finalizer":
        return "shipped"
    results = tool_results(request)
    if not results:
        return ToolCall(name="note", arguments={"text": "about to deploy"})
    if len(results) == 1:
        return ToolCall(name="deploy", arguments={"target": "prod"})
    return ToolCall(name="finish", arguments={"result": results[-1]})


async def test_listeners_and_the_log_see_the_same_stream_through_an_approval(
    db: str, workspace: Path
) -> None:
    agent = Agent(FunctionModel(note_then_deploy), tools=[note, deploy], db=db,
                  workspace=workspace)
    seen: Seen = []

    paused = await agent.run("Ship it", on_event=listener(seen))
    done = await agent.approve(paused.run_id, True, on_event=listener(seen))

    assert done.status == "completed"
    assert seen == logged(db, done.run_id)
    kinds = [kind for kind, _ in seen]
    assert "approval_requested" in kinds and "approval_given" in kinds
    # The resumed executor was served the call made before the pause; nothing ran or was
    # recorded twice.
    calls = Store(db).get_tool_calls(done.run_id)
    assert [(c.name, c.status) for c in calls] == [
        ("note", "ok"), ("deploy", "ok"), ("finish", "ok")]
    assert (workspace / "notes.txt").read_text() == "about to deploy\n"


@tool
def read_page(n: int) -> str:
    """Read page n of a long report.

    Args:
        n: the page number.
    """
    return f"page {n}: " + "the quarterly figures are in the appendix. " * 40


def reader(request: ModelRequest) -> object:
    if request.role == "strategist":
        return Plan(strategy="read", steps=[PlanStep(id="s1", title="Read the report")])
    if request.role == "summarizer":
        return {"goal": "read the report"}
    if request.role == "finalizer":
        return "read"
    read = sum(m["role"] == "tool" for m in request.messages)
    if read < 8:
        return ToolCall(name="read_page", arguments={"n": read + 1})
    return ToolCall(name="finish", arguments={"result": "read 8 pages"})


async def test_compaction_events_reach_the_listener(db: str, workspace: Path) -> None:
    agent = Agent(FunctionModel(reader), tools=[read_page], db=db, workspace=workspace,
                  max_prompt_tokens=1500)
    seen: Seen = []

    result = await agent.run("Read the report", on_event=listener(seen))

    assert ("context_compacted", "t1") in seen
    assert seen == logged(db, result.run_id)


def hard_question(request: ModelRequest) -> object:
    if request.role == "strategist":
        return Plan(strategy="think", steps=[PlanStep(id="s1", title="Answer the riddle",
                                                      difficulty="hard")])
    if request.role == "thinker":
        return "Answer: 42"
    return ToolCall(name="think_parallel", arguments={"question": "the riddle?", "n": 5})


async def test_parallel_samples_cannot_overshoot_the_model_call_budget(
    db: str, workspace: Path
) -> None:
    agent = Agent(FunctionModel(hard_question), db=db, workspace=workspace,
                  budget=Budget(max_model_calls=4))

    result = await agent.run("Solve the riddle")

    # strategist, executor, then only 2 of the 5 samples: the others were refused up front.
    assert result.status == "budget_exhausted"
    assert result.usage.model_calls == 4
    assert [c.role for c in Store(db).get_model_calls(result.run_id)] == [
        "strategist", "executor", "thinker", "thinker"]


def test_a_user_tool_cannot_take_a_control_tool_name(db: str, workspace: Path) -> None:
    @tool(name="finish")
    def my_finish(result: str) -> str:
        """Finish my way."""
        return result

    with pytest.raises(ToolDefinitionError, match="'finish' from .*taken by agentkit"):
        Agent(FunctionModel(reader), tools=[my_finish], db=db, workspace=workspace)
