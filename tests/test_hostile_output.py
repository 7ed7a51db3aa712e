"""Hostile tool output is data, not a crash: invalid Unicode is replaced, a huge output enters
the conversation one page at a time and is stored once."""

from __future__ import annotations

import os
from pathlib import Path

from agentkit import Agent, FunctionModel, ModelRequest, Plan, PlanStep, ToolCall, ToolContext, tool
from agentkit.context import PAGE_CHARS
from agentkit.store import Store
from tests.scripts import single_tool_step, tool_results


@tool
def list_odd_names(ctx: ToolContext) -> str:
    """Create a file whose name is not UTF-8, then list the workspace."""
    with open(os.path.join(os.fsencode(ctx.workspace), b"caf\xe9.txt"), "wb") as f:
        f.write(b"x")
    return "\n".join(os.listdir(ctx.workspace))  # 'caf\udce9.txt': a lone surrogate


async def test_invalid_unicode_in_a_tool_output_is_replaced_and_recorded(
    db: str, workspace: Path
) -> None:
    model = FunctionModel(single_tool_step("List the files", ToolCall(name="list_odd_names")))
    result = await Agent(model, tools=[list_odd_names], db=db, workspace=workspace).run(
        "List the files")

    assert result.status == "completed"
    [listing, _finish] = Store(db).get_tool_calls(result.run_id)
    assert (listing.name, listing.status, listing.result) == ("list_odd_names", "ok",
                                                             "caf\ufffd.txt")


LINES = 200_000  # about 5 MB


@tool
def dump_log() -> str:
    """Print a very long log."""
    return "".join(f"line {n:06d} of the log\n" for n in range(LINES))


def reader(request: ModelRequest) -> object:
    if request.role == "strategist":
        return Plan(strategy="read the log", steps=[PlanStep(id="s1", title="Read the log")])
    if request.role == "finalizer":
        return "read"
    results = tool_results(request)
    if not results:
        return ToolCall(name="dump_log", id="call_log")
    if len(results) == 1:
        return ToolCall(name="recall", arguments={"query": "page 2 of call call_log in t1"})
    return ToolCall(name="finish", arguments={"result": results[-1].splitlines()[0]})


async def test_a_huge_output_is_paged_into_the_prompt_and_stored_once(
    db: str, workspace: Path
) -> None:
    model = FunctionModel(reader)
    result = await Agent(model, tools=[dump_log], db=db, workspace=workspace).run("Read the log")

    assert result.status == "completed"
    full = dump_log.function()
    # Page 2 starts where page 1 ended; the model got it through recall.
    assert result.subtasks[0].result == full[PAGE_CHARS:].splitlines()[0]
    executor = [r for r in model.requests if r.role == "executor"]
    shown = tool_results(executor[1])[0]
    assert len(shown) < PAGE_CHARS + 200 and shown.startswith(full[:1000])
    assert "recall('page 2 of call call_log in t1')" in shown
    store = Store(db)
    assert [c.result for c in store.get_tool_calls(result.run_id) if c.name == "dump_log"] == [
        full]  # the whole output, once
    assert os.path.getsize(db) < 2 * len(full)  # not again in the stored requests
