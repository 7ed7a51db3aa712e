"""The executor: one subtask's tool loop, until `finish`, the step limit or the subtask budget.

Tool faults go back to the model as results (`Tool.run`); after `MAX_TOOL_ERRORS` error results
in a row the subtask fails with the last error. When the subtask's effort allows it, the model may
also call `think_parallel` and `think_longer` (`agentkit.execution.thinking`), whose tokens count
against the subtask budget. Every call and its result is recorded through `record_tool`.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agentkit.context import ContextManager
from agentkit.errors import ModelError
from agentkit.execution import thinking
from agentkit.execution.recall import with_recall
from agentkit.models import ModelClient, ModelRequest, ToolCall
from agentkit.schema import Subtask
from agentkit.tools import ToolContext, ToolResult, Toolset

# Error results (invalid arguments, exceptions, timeouts, unknown tools) allowed in a row.
MAX_TOOL_ERRORS = 3
_ERROR_STATUSES = frozenset({"invalid", "error", "timeout"})

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
FAIL_SPEC: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "fail",
        "description": "Call when the subtask cannot be done this way (e.g. the tests stay red), "
        "with the reason; the plan is then revised.",
        "parameters": {
            "type": "object",
            "properties": {"reason": {"type": "string", "description": "why it failed"}},
            "required": ["reason"],
        },
    },
}
CONTRADICT_SPEC: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "report_contradiction",
        "description": "Call when a fact you found contradicts an assumption of the plan; the "
        "subtask stops and the plan is revised with the fact.",
        "parameters": {
            "type": "object",
            "properties": {
                "assumption": {"type": "string", "description": "the plan's assumption"},
                "fact": {"type": "string", "description": "what you found instead"},
            },
            "required": ["assumption", "fact"],
        },
    },
}



class ThinkParallelArgs(BaseModel):
    """Sample several answers to a hard question at once and pick one by vote or by a judge."""

    model_config = ConfigDict(extra="forbid")

    question: Annotated[str, Field(min_length=1, description="a self-contained question")]
    n: Annotated[int, Field(ge=2, le=8, description="how many samples")] = 5
    method: Annotated[
        Literal["vote", "judge"],
        Field(description="'vote' for short answers, 'judge' for open-ended ones"),
    ] = "vote"


class ThinkLongerArgs(BaseModel):
    """Think longer about one hard question before answering it."""

    model_config = ConfigDict(extra="forbid")

    question: Annotated[str, Field(min_length=1, description="a self-contained question")]
    budget_tokens: Annotated[
        int, Field(ge=16, le=32_000, description="how many tokens of thinking")
    ] = 2048


def _spec(name: str, args: type[BaseModel]) -> dict[str, Any]:
    schema = args.model_json_schema()
    schema.pop("title", None)
    schema.pop("description", None)
    for prop in schema["properties"].values():
        prop.pop("title", None)
    return {
        "type": "function",
        "function": {"name": name, "description": args.__doc__, "parameters": schema},
    }


THINK_PARALLEL_SPEC = _spec("think_parallel", ThinkParallelArgs)
THINK_LONGER_SPEC = _spec("think_longer", ThinkLongerArgs)
THINKING_TOOLS = ("think_parallel", "think_longer")

SYSTEM = """You are an executor. Carry out one subtask with the tools, then call finish(result)
as soon as its success criteria are met. Do not do other subtasks' work."""

ToolGate = Callable[
    [str, ToolCall, Callable[[], Awaitable[ToolResult]]], Awaitable[ToolResult]
]
ToolRecorder = Callable[[str, ToolCall, ToolResult], None]


@dataclass(kw_only=True, frozen=True)
class Outcome:
    status: Literal["done", "failed"]
    result: str
    steps: int
    tokens: int
    contradiction: str | None = None


def _prompt(subtask: Subtask, goal: str, plan_text: str, ledger_text: str) -> list[dict[str, Any]]:
    return [
        {"role": "system", "content": SYSTEM},
        {
            "role": "user",
            "content": (
                f"Goal of the run: {goal}\nPlan:\n{plan_text}\n\n{ledger_text}\n\n"
                f"Your subtask ({subtask.id}): {subtask.title}\n{subtask.instructions}\n"
                f"Success criteria: "
                f"{subtask.success_criteria or 'the instructions are carried out'}"
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
    max_tool_errors: int = MAX_TOOL_ERRORS,
    context: ContextManager | None = None,
    before_tool: Callable[[], None] | None = None,
    through: ToolGate | None = None,
) -> Outcome:
    """Run `subtask` to an `Outcome`; `BudgetExceeded` from the run budget propagates.

    `before_tool` runs before every tool call except `finish` (the run's budget check).
    """
    messages = _prompt(subtask, goal, plan_text, ledger_text)
    effort = subtask.effort
    thinking_on = effort.thinking_tools
    if context is not None:  # every prompt is fitted to the budget; `recall` brings back the rest
        tools = with_recall(tools, context)
    specs = [*tools.specs(), FINISH_SPEC, FAIL_SPEC, CONTRADICT_SPEC]
    if thinking_on:
        specs += [THINK_PARALLEL_SPEC, THINK_LONGER_SPEC]
    tiered = effort.model in client.aliases
    tokens = errors = 0
    for step in range(1, effort.max_steps + 1):
        if context is not None:
            messages = await context.fit(
                messages, tools=specs, budget_tokens=effort.budget_tokens,
                model=effort.model if tiered else None, subtask_id=subtask.id,
            )
        response = await client.complete(
            ModelRequest(
                role="executor", messages=messages, tools=specs, subtask_id=subtask.id,
                model=effort.model if tiered else None,
                reasoning_effort=effort.reasoning_effort if tiered else None,
            )
        )
        tokens += response.prompt_tokens + response.completion_tokens
        if context is not None:
            context.observe(response.model, messages, specs, response.prompt_tokens)
        messages.append(response.assistant_message())
        if not response.tool_calls:
            if response.text and response.text.strip():
                text = response.text.strip()
                return Outcome(status="done", result=text, steps=step, tokens=tokens)
            messages.append({"role": "user", "content": "Call a tool, or finish(result)."})
            continue
        for call in response.tool_calls:
            if call.name == "report_contradiction":
                found = _contradiction(call)
                record_tool(subtask.id, call, ToolResult(status="ok", content=found))
                return Outcome(status="failed", result=found, steps=step, tokens=tokens,
                               contradiction=found)
            if call.name in ("finish", "fail"):
                result = _finish_result(call, "result" if call.name == "finish" else "reason")
                record_tool(subtask.id, call, ToolResult(status="ok", content=result))
                status: Literal["done", "failed"] = "done" if call.name == "finish" else "failed"
                return Outcome(status=status, result=result, steps=step, tokens=tokens)
            if before_tool is not None:
                before_tool()
            if thinking_on and call.name in THINKING_TOOLS:
                left = effort.budget_tokens - tokens
                outcome, spent = await _think(call, client, subtask.id, left=left)
                tokens += spent
            elif through is not None:  # the run's journal: served on resume/replay, or run
                outcome = await through(
                    subtask.id, call, functools.partial(_run_tool, call, tools, ctx, thinking_on)
                )
            else:
                outcome = await _run_tool(call, tools, ctx, thinking_on)
            record_tool(subtask.id, call, outcome)
            errors = errors + 1 if outcome.status in _ERROR_STATUSES else 0
            if errors >= max_tool_errors:
                return Outcome(
                    status="failed", steps=step, tokens=tokens,
                    result=f"stopped after {errors} tool errors in a row; the last, from "
                    f"{call.name!r} ({outcome.status}): {outcome.content[:400]}",
                )
            content = outcome.content
            if outcome.status in _ERROR_STATUSES:
                left = max_tool_errors - errors
                content += f"\n({left} more tool error(s) in a row and this subtask fails.)"
            messages.append({"role": "tool", "tool_call_id": call.id, "content": content})
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


def _contradiction(call: ToolCall) -> str:
    args = call.decoded_arguments()
    if not isinstance(args, dict):
        return f"a fact contradicts the plan: {args}"
    return (f"found {args.get('fact', '?')!r}, which contradicts the assumption "
            f"{args.get('assumption', '?')!r}")


def _finish_result(call: ToolCall, key: str = "result") -> str:
    args = call.decoded_arguments()
    if isinstance(args, dict):
        return str(args.get(key, json.dumps(args)))
    return str(args)


async def _run_tool(
    call: ToolCall, tools: Toolset, ctx: ToolContext, thinking_on: bool
) -> ToolResult:
    found = tools.get(call.name)
    if found is None:
        thinking = THINKING_TOOLS if thinking_on else ()
        names = ", ".join([*tools.names, "finish", "fail", "report_contradiction", *thinking])
        return ToolResult(
            status="invalid", content=f"Unknown tool {call.name!r}; available: {names}"
        )
    return await found.run(call.arguments, ctx)


async def _think(
    call: ToolCall, client: ModelClient, subtask_id: str, *, left: int
) -> tuple[ToolResult, int]:
    """Run a thinking tool; returns its result and the tokens it spent."""
    started = time.perf_counter()
    try:
        raw = json.loads(call.arguments) if isinstance(call.arguments, str) else call.arguments
        if call.name == "think_parallel":
            p = ThinkParallelArgs.model_validate(raw or {})
            thought = await thinking.think_parallel(
                client, p.question, n=p.n, method=p.method, subtask_id=subtask_id
            )
        else:
            q = ThinkLongerArgs.model_validate(raw or {})
            thought = await thinking.think_longer(
                client, q.question, budget_tokens=max(1, min(q.budget_tokens, left)),
                subtask_id=subtask_id,
            )
    except (ValidationError, json.JSONDecodeError) as e:
        return _timed("invalid", f"Invalid arguments for tool {call.name!r}: {e}", started), 0
    except ModelError as e:
        return _timed("error", f"Tool {call.name!r} failed: {e}", started), 0
    return _timed("ok", thought.render(), started), thought.tokens


def _timed(status: Literal["ok", "invalid", "error"], content: str, started: float) -> ToolResult:
    return ToolResult(status=status, content=content,
                      latency_ms=(time.perf_counter() - started) * 1000)
