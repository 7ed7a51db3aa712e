"""The executor: one subtask's tool loop, until `finish`, the step limit or the subtask budget."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from agentkit.models import ModelClient, ModelRequest, ToolCall
from agentkit.schema import Subtask
from agentkit.tools import ToolContext, ToolResult, Toolset

FINISH_SPEC: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "finish",
        "description": "Call when the subtask's success criteria are met, with the result.",
        "parameters": {
            "type": "object",
            "properties": {"result": {"type": "string", "description": "what was achieved"}},
            "required": ["result"],
        },
    },
}

SYSTEM = """You are an executor. Carry out one subtask with the tools, then call finish(result)
as soon as its success criteria are met. Do not do other subtasks' work."""

ToolRecorder = Callable[[str, ToolCall, ToolResult], None]


@dataclass(kw_only=True, frozen=True)
class Outcome:
    status: Literal["done", "failed"]
    result: str
    steps: int
    tokens: int


def _prompt(subtask: Subtask, goal: str, plan_text: str, ledger_text: str) -> list[dict[str, Any]]:
    return [
        {"role": "system", "content": SYSTEM},
        {
            "role": "user",
            "content": (
                f"Goal of the run: {goal}\nPlan:\n{plan_text}\n\n{ledger_text}\n\n"
                f"Your subtask ({subtask.id}): {subtask.title}\n{subtask.instructions}\n"
                f"Success criteria: {subtask.success_criteria or 'the instructions are carried out'}"
            ),
        },
    ]


async def execute(
    subtask: Subtask,
    *,
    goal: str,
    plan_text: str,
    ledger_text: str,
    client: ModelClient,
    tools: Toolset,
    ctx: ToolContext,
    record_tool: ToolRecorder,
) -> Outcome:
    messages = _prompt(subtask, goal, plan_text, ledger_text)
    specs = [*tools.specs(), FINISH_SPEC]
    tokens = 0
    effort = subtask.effort
    for step in range(1, effort.max_steps + 1):
        response = await client.complete(
            ModelRequest(
                role="executor", messages=messages, tools=specs, subtask_id=subtask.id,
                model=effort.model if effort.model in client.aliases else None,
                reasoning_effort=effort.reasoning_effort if effort.model in client.aliases else None,
            )
        )
        tokens += response.prompt_tokens + response.completion_tokens
        messages.append(response.assistant_message())
        if not response.tool_calls:
            if response.text and response.text.strip():
                return Outcome(status="done", result=response.text.strip(), steps=step, tokens=tokens)
            messages.append({"role": "user", "content": "Call a tool, or finish(result)."})
            continue
        for call in response.tool_calls:
            if call.name == "finish":
                result = _finish_result(call)
                record_tool(subtask.id, call, ToolResult(status="ok", content=result))
                return Outcome(status="done", result=result, steps=step, tokens=tokens)
            outcome = await _run_tool(call, tools, ctx)
            record_tool(subtask.id, call, outcome)
            messages.append({"role": "tool", "tool_call_id": call.id, "content": outcome.content})
        if tokens > effort.budget_tokens:
            return Outcome(
                status="failed",
                result=f"used {tokens} tokens, over the subtask budget of {effort.budget_tokens}",
                steps=step, tokens=tokens,
            )
    return Outcome(
        status="failed",
        result=f"not finished within the step limit of {effort.max_steps}",
        steps=effort.max_steps, tokens=tokens,
    )


def _finish_result(call: ToolCall) -> str:
    args: Any = call.arguments
    if isinstance(args, str):
        try:
            args = json.loads(args)
        except json.JSONDecodeError:
            return args
    if isinstance(args, dict):
        return str(args.get("result", json.dumps(args)))
    return str(args)


async def _run_tool(call: ToolCall, tools: Toolset, ctx: ToolContext) -> ToolResult:
    found = tools.get(call.name)
    if found is None:
        names = ", ".join([*tools.names, "finish"])
        return ToolResult(status="invalid", content=f"Unknown tool {call.name!r}; available: {names}")
    return await found.run(call.arguments, ctx)
