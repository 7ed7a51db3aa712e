"""The executor loop: tool errors within a retry budget, thinking tools, the subtask budget."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from agentkit import Effort, FunctionModel, ModelRequest, Reply, Subtask, ToolCall, Toolset, tool
from agentkit.execution import executor
from agentkit.execution.executor import Outcome, execute, prompt
from agentkit.tools import ToolResult
from tests.scripts import run_context

Recorded = list[tuple[str, ToolCall, ToolResult]]


@tool
def flaky(n: int) -> str:
    """Fails for odd n."""
    if n % 2:
        raise RuntimeError(f"odd {n}")
    return f"even {n}"


def subtask(**effort: Any) -> Subtask:
    return Subtask(id="t1", step_id="s1", plan_version=1, title="Do it",
                   effort=Effort(**{"max_steps": 8, **effort}))


async def run(model: FunctionModel, workspace: Path, recorded: Recorded, **effort: Any) -> Outcome:
    """Run one subtask on the run's real tool path, noting each call and its result."""
    ctx = run_context(model, workspace, Toolset([flaky]))

    async def call_tool(sid: str, call: ToolCall, tools: Toolset) -> ToolResult:
        result = await ctx.call_tool(sid, call, tools)
        recorded.append((sid, call, result))
        return result

    task = subtask(**effort)
    return await execute(task, prompt(task, "g", "p", ""), client=ctx.client, tools=ctx.tools,
                         call_tool=call_tool)


def tool_messages(request: ModelRequest) -> list[str]:
    return [m["content"] for m in request.messages if m["role"] == "tool"]


async def test_consecutive_tool_errors_fail_the_subtask_with_the_last_error(
    workspace: Path,
) -> None:
    model = FunctionModel(lambda request: ToolCall(name="flaky", arguments={"n": 1}))
    recorded: Recorded = []

    outcome = await run(model, workspace, recorded)

    assert outcome.status == "failed"
    assert outcome.steps == executor.MAX_TOOL_ERRORS == 3
    assert "3 tool errors in a row" in outcome.result
    assert "'flaky' (error)" in outcome.result and "odd 1" in outcome.result
    assert [(sid, c.name, r.status) for sid, c, r in recorded] == [("t1", "flaky", "error")] * 3
    # The model was told how many errors it had left.
    assert tool_messages(model.requests[-1])[-1].endswith(
        "(1 more tool error(s) in a row and this subtask fails.)")


async def test_a_success_resets_the_error_count(workspace: Path) -> None:
    script = iter([{"n": 1}, {"n": 3}, {"n": 2}, {"n": 5}, {"n": 7}])

    def reply(request: ModelRequest) -> object:
        args = next(script, None)
        if args is None:
            return ToolCall(name="finish", arguments={"result": "made it"})
        return ToolCall(name="flaky", arguments=args)

    model = FunctionModel(reply)
    recorded: Recorded = []
    outcome = await run(model, workspace, recorded)

    assert outcome.status == "done" and outcome.result == "made it"
    assert [r.status for _, _, r in recorded] == ["error", "error", "ok", "error", "error", "ok"]
    # After the success the count starts again: the model is told so.
    shown = "\n".join(tool_messages(model.requests[-1]))
    assert re.findall(r"\((\d) more tool error", shown) == ["2", "1", "2", "1"]


async def test_invalid_arguments_and_unknown_tools_go_back_to_the_model(workspace: Path) -> None:
    script = iter([ToolCall(name="flaky", arguments='{"n": "many"'),
                   ToolCall(name="flaky", arguments={"n": "many"}),
                   ToolCall(name="think_parallel", arguments={"question": "q"}),
                   ToolCall(name="finish", arguments={"result": "ok"})])
    model = FunctionModel(lambda request: next(script))
    recorded: Recorded = []

    outcome = await run(model, workspace, recorded, max_steps=8)

    # Three errors in a row (the unknown tool, as thinking is off, is the third), all recorded.
    assert [(c.name, r.status) for _, c, r in recorded] == [
        ("flaky", "invalid"), ("flaky", "invalid"), ("think_parallel", "invalid")]
    assert outcome.status == "failed"
    assert "Unknown tool 'think_parallel'" in outcome.result
    shown = tool_messages(model.requests[-1])
    assert shown[0].startswith("Invalid arguments for tool 'flaky'")
    assert shown[1].startswith("Invalid arguments for tool 'flaky'") and "n" in shown[1]


async def test_thinking_tools_are_offered_only_when_the_effort_allows(workspace: Path) -> None:
    model = FunctionModel(lambda request: ToolCall(name="finish", arguments={"result": "x"}))
    await run(model, workspace, [], thinking_tools=False)
    await run(model, workspace, [], thinking_tools=True)
    off, on = model.requests
    assert "think_parallel" not in off.tool_names and "think_longer" not in off.tool_names
    assert set(on.tool_names) == {
        "flaky", "finish", "fail", "report_contradiction", "think_parallel", "think_longer"}


async def test_the_model_can_call_think_parallel_and_its_tokens_count(workspace: Path) -> None:
    votes = iter(["Answer: 42", "Answer: 41", "Answer: 42"])

    def reply(request: ModelRequest) -> object:
        if request.role == "thinker":
            return Reply(text=next(votes), prompt_tokens=100, completion_tokens=50)
        shown = tool_messages(request)
        if not shown:
            return Reply(tool_calls=[ToolCall(name="think_parallel",
                                              arguments={"question": "6*7?", "n": 3})],
                         prompt_tokens=10, completion_tokens=10)
        return Reply(tool_calls=[ToolCall(name="finish", arguments={"result": shown[0]})],
                     prompt_tokens=10, completion_tokens=10)

    model = FunctionModel(reply)
    recorded: Recorded = []
    outcome = await run(model, workspace, recorded, thinking_tools=True)

    assert outcome.status == "done"
    assert outcome.result.startswith("Answer: 42\n(agreement 67% of 3 samples; 450 tokens)")
    [(_, call, result), _finish] = recorded
    assert call.name == "think_parallel" and result.status == "ok" and result.latency_ms > 0
    assert [r.role for r in model.requests].count("thinker") == 3
    assert all(r.subtask_id == "t1" for r in model.requests)
    assert outcome.tokens == 2 * 20 + 3 * 150


async def test_thinking_tokens_count_against_the_subtask_budget(workspace: Path) -> None:
    def reply(request: ModelRequest) -> object:
        if request.role == "thinker":
            return Reply(text="hmm, Answer: 1", prompt_tokens=100, completion_tokens=100)
        if tool_messages(request):
            return ToolCall(name="finish", arguments={"result": "x"})
        return Reply(tool_calls=[ToolCall(name="think_parallel",
                                          arguments={"question": "q", "n": 2})],
                     prompt_tokens=10, completion_tokens=10)

    outcome = await run(FunctionModel(reply), workspace, [], thinking_tools=True,
                        budget_tokens=300)

    assert outcome.status == "failed"
    assert outcome.tokens == 420
    assert outcome.result == "used 420 tokens, over the subtask budget of 300"


async def test_think_longer_is_capped_by_what_is_left_of_the_subtask_budget(
    workspace: Path,
) -> None:
    def reply(request: ModelRequest) -> object:
        if request.role == "thinker":
            return Reply(text="Answer: 9", prompt_tokens=5, completion_tokens=5)
        if tool_messages(request):
            return ToolCall(name="finish", arguments={"result": tool_messages(request)[0]})
        return Reply(tool_calls=[ToolCall(name="think_longer", arguments=json.dumps(
            {"question": "q", "budget_tokens": 5000}))], prompt_tokens=50, completion_tokens=50)

    model = FunctionModel(reply)
    outcome = await run(model, workspace, [], thinking_tools=True, budget_tokens=1000)

    thinker = [r for r in model.requests if r.role == "thinker"]
    assert thinker[0].max_tokens == 900  # 1000 - the 100 the executor had used
    assert outcome.status == "done" and outcome.result.startswith("Answer: 9")


async def test_bad_thinking_arguments_are_a_validation_error_for_the_model(
    workspace: Path,
) -> None:
    script = iter([ToolCall(name="think_parallel", arguments={"question": "q", "n": 99}),
                   ToolCall(name="finish", arguments={"result": "gave up"})])
    model = FunctionModel(lambda request: next(script))
    recorded: Recorded = []
    outcome = await run(model, workspace, recorded, thinking_tools=True)

    assert outcome.status == "done"
    assert recorded[0][2].status == "invalid"
    assert "less than or equal to 8" in recorded[0][2].content
    assert not any(r.role == "thinker" for r in model.requests)


async def test_a_text_reply_is_not_done_it_gets_one_nudge(workspace: Path) -> None:
    def chatty(request: ModelRequest) -> object:
        return "All done, the file is written."  # but it never called a tool

    model = FunctionModel(chatty)
    outcome = await run(model, workspace, [])
    assert outcome.status == "failed"
    assert outcome.result.startswith("replied 2 times in a row without calling a tool")
    assert "All done, the file is written." in outcome.result
    assert len(model.requests) == 2
    assert model.requests[1].messages[-1] == {"role": "user", "content": executor.NUDGE}


async def test_after_the_nudge_finish_ends_the_subtask(workspace: Path) -> None:
    def late(request: ModelRequest) -> object:
        nudged = request.messages[-1]["content"] == executor.NUDGE
        return ToolCall(name="finish", arguments={"result": "ok"}) if nudged else "thinking..."

    outcome = await run(FunctionModel(late), workspace, [])
    assert (outcome.status, outcome.result, outcome.steps) == ("done", "ok", 2)
