"""The executor: one subtask's tool loop, until a control tool ends it, the step limit or the
subtask budget.

Every tool call — the user's tools, `recall`, the control tools (`finish`, `fail`,
`report_contradiction`) and the thinking tools (`agentkit.execution.toolbox`) — goes through the
run's one path (`RunContext.call_tool`: journal, approval, budget, run, record). Tool faults go
back to the model as results; after `MAX_TOOL_ERRORS` error results in a row the subtask fails
with the last error. Every model call of the subtask, its thinking tools' included, counts
against the subtask's token budget.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from agentkit.context import ContextManager, first_page
from agentkit.execution import small as small_mode
from agentkit.execution import toolbox
from agentkit.models import ModelClient, ModelRequest, ModelResponse, Tally, ToolCall
from agentkit.schema import Subtask
from agentkit.tools import ToolResult, Toolset

# Error results (invalid arguments, exceptions, timeouts, unknown tools) allowed in a row.
MAX_TOOL_ERRORS = 3
_ERROR_STATUSES = frozenset({"invalid", "error", "timeout", "cut_off"})

SYSTEM = """You are an executor. Carry out one subtask with the tools, then call finish(result)
as soon as its success criteria are met, or fail(reason) if they cannot be. Do not do other
subtasks' work."""
NUDGE = ("A reply without a tool call does not end the subtask. Call a tool, or finish(result) "
         "if the success criteria are met, or fail(reason).")
CUT_OFF = ("Your reply was cut off at the output token limit, so it cannot be a result. Call a "
           "tool, or finish(result) with a short result.")
# Replies without a tool call allowed in a row (each answered by a nudge) before the attempt fails.
MAX_NUDGES = 1


class ToolCaller(Protocol):
    """The run's path for one tool call (`RunContext.call_tool`)."""

    def __call__(self, subtask_id: str, call: ToolCall, tools: Toolset) -> Awaitable[ToolResult]:
        ...


# Judges a `finish` result: None accepts it, a text rejects it and is what the model is told.
Judge = Callable[[str], Awaitable[str | None]]


@dataclass(kw_only=True, frozen=True)
class Outcome:
    status: Literal["done", "failed"]
    result: str
    steps: int
    tokens: int
    contradiction: str | None = None


def is_small(client: ModelClient, subtask: Subtask) -> bool:
    """Whether `subtask` runs on a small model (small-model mode, `agentkit.execution.small`)."""
    model = subtask.effort.model
    return client.is_small("executor", model if model in client.aliases else None)


def prompt(
    subtask: Subtask, goal: str, plan_text: str, ledger_text: str, checks: Sequence[str] = (),
    *, small: bool = False,
) -> list[dict[str, Any]]:
    """The executor's opening messages: the run's goal, plan and ledger, then its subtask;
    for a small model, the compact prompt of `agentkit.execution.small`."""
    if small:
        return list(small_mode.prompt(subtask, goal, checks, ledger_text))
    checked = "".join(f"\nfinish is accepted only once this check exits 0: {c}" for c in checks)
    return [
        {"role": "system", "content": SYSTEM},
        {
            "role": "user",
            "content": (
                f"Goal of the run: {goal}\nPlan:\n{plan_text}\n\n{ledger_text}\n\n"
                f"Your subtask ({subtask.id}): {subtask.title}\n{subtask.instructions}\n"
                f"Success criteria: "
                f"{subtask.success_criteria or 'the instructions are carried out'}{checked}"
            ),
        },
    ]


async def execute(
    subtask: Subtask,
    messages: list[dict[str, Any]],
    *,
    client: ModelClient,
    tools: Toolset,
    call_tool: ToolCaller,
    context: ContextManager | None = None,
    max_tool_errors: int = MAX_TOOL_ERRORS,
    checks: Sequence[str] = (),
    judge: Judge | None = None,
) -> Outcome:
    """Run `subtask` from its opening `messages` to an `Outcome`.

    A `finish` is accepted only when every command of `checks` exits 0 in the workspace, and
    (without checks) when `judge` accepts its result; otherwise the model is told why and goes
    on within its step limit.
    `BudgetExceeded` (the run's budget) and `ModelError` propagate.
    """
    outcome = await _execute(subtask, messages, client=client, tools=tools, call_tool=call_tool,
                             context=context, max_tool_errors=max_tool_errors, checks=checks,
                             judge=judge)
    if context is not None:  # what the newest turns taught reaches the run's facts
        await context.settle(messages, budget_tokens=subtask.effort.budget_tokens,
                             model=_tier_model(client, subtask), subtask_id=subtask.id)
    return outcome


def _tier_model(client: ModelClient, subtask: Subtask) -> str | None:
    return subtask.effort.model if subtask.effort.model in client.aliases else None


async def _execute(
    subtask: Subtask,
    messages: list[dict[str, Any]],
    *,
    client: ModelClient,
    tools: Toolset,
    call_tool: ToolCaller,
    context: ContextManager | None,
    max_tool_errors: int,
    checks: Sequence[str],
    judge: Judge | None,
) -> Outcome:
    effort, small = subtask.effort, is_small(client, subtask)
    client, tally, tools = _equipped(subtask, messages, client, tools, context, small=small)
    errors, nudged = 0, 0
    last_ok: tuple[ToolCall, str] | None = None  # the last successful work call, its output
    for step in range(1, effort.max_steps + 1):
        specs = small_mode.offered(tools, worked=last_ok is not None) if small else tools.specs()
        response = await _ask(client, context, subtask, messages, specs)
        messages.append(response.assistant_message())
        if not response.tool_calls:  # done means finish(result): text alone never ends it
            nudged += 1
            if nudged > MAX_NUDGES:
                return Outcome(status="failed", steps=step, tokens=tally.tokens,
                               result=_no_tool_call(response.text, nudged))
            cut = response.finish_reason == "length"
            messages.append({"role": "user", "content": CUT_OFF if cut else NUDGE})
            continue
        nudged = 0
        for call in response.tool_calls:
            if small and not checks and (again := small_mode.repeated(call, last_ok)) is not None:
                return Outcome(status="done", result=again, steps=step, tokens=tally.tokens)
            result = await call_tool(subtask.id, call, tools)
            errors = errors + 1 if result.status in _ERROR_STATUSES else 0
            end = _verdict(tools, call, result, errors, max_tool_errors)
            if end is not None and end[0] == "done" and (checks or judge is not None):
                refusal = (await _check(subtask, call, checks, call_tool) if checks
                           else await judge(end[1]) if judge is not None else None)
                if refusal is not None:  # not done: the model hears why, and goes on
                    messages.append({"role": "tool", "tool_call_id": call.id, "content": refusal})
                    continue
            if end is not None:
                status, text, contradiction = end
                text = small_mode.with_evidence(text, last_ok) if small else text
                return Outcome(status=status, result=text, steps=step, tokens=tally.tokens,
                               contradiction=contradiction)
            messages.append(_tool_message(subtask, call, result, max_tool_errors - errors))
            last_ok = (call, result.content) if small_mode.succeeded(result) else last_ok
        if tally.tokens > effort.budget_tokens:
            return Outcome(status="failed", steps=step, tokens=tally.tokens, result=(
                f"used {tally.tokens} tokens, over the subtask budget of {effort.budget_tokens}"))
    return Outcome(status="failed", steps=effort.max_steps, tokens=tally.tokens,
                   result=f"not finished within the step limit of {effort.max_steps}")


def _equipped(
    subtask: Subtask, messages: list[dict[str, Any]], client: ModelClient, tools: Toolset,
    context: ContextManager | None, *, small: bool,
) -> tuple[ModelClient, Tally, Toolset]:
    """The subtask's client (every call of it, its thinking tools' too, at its tier and reasoning
    effort, its tokens counted) and its tools (agentkit's added; narrowed for a small model)."""
    effort = subtask.effort
    client = client.at_effort(effort.model if effort.model in client.aliases else None,
                              effort.reasoning_effort)
    client, tally = client.counting()
    tools = toolbox.for_subtask(
        tools, client=client, thinking_on=effort.thinking_tools, context=context,
        tokens_left=lambda: effort.budget_tokens - tally.tokens,
    )
    return client, tally, small_mode.prepare(tools, subtask, messages) if small else tools


async def _ask(
    client: ModelClient, context: ContextManager | None, subtask: Subtask,
    messages: list[dict[str, Any]], specs: list[dict[str, Any]],
) -> ModelResponse:
    """One executor model call, its prompt fitted to the budget by the context manager."""
    effort = subtask.effort
    tiered = effort.model in client.aliases
    if context is not None:  # `recall` brings back what compaction takes out
        messages[:] = await context.fit(
            messages, tools=specs, budget_tokens=effort.budget_tokens,
            model=effort.model if tiered else None, subtask_id=subtask.id,
        )
    response = await client.complete(
        ModelRequest(role="executor", messages=messages, tools=specs, subtask_id=subtask.id)
    )
    if context is not None:
        context.observe(response.model, messages, specs, response.prompt_tokens)
    return response


def _verdict(
    tools: Toolset, call: ToolCall, result: ToolResult, errors: int, max_errors: int
) -> tuple[Literal["done", "failed"], str, str | None] | None:
    """How the subtask ends after `call` — (status, result, contradiction) — or None."""
    if errors >= max_errors:
        return "failed", (f"stopped after {errors} tool errors in a row; the last, from "
                          f"{call.name!r} ({result.status}): {result.content[:400]}"), None
    found = tools.get(call.name)
    end = None if found is None or result.status != "ok" else found.ends_subtask
    if end is None:
        return None
    contradiction = result.content if end == "contradiction" else None
    return ("done" if end == "done" else "failed"), result.content, contradiction


async def _check(
    subtask: Subtask, call: ToolCall, checks: Sequence[str], call_tool: ToolCaller
) -> str | None:
    """Run the step's checks after `finish`: None if all pass, else what to tell the model."""
    for number, command in enumerate(checks, start=1):
        check = ToolCall(id=f"{call.id}-check{number}", name=toolbox.CHECK_NAME, arguments={})
        result = await call_tool(subtask.id, check, Toolset([toolbox.check_tool(command)]))
        if result.status != "ok":
            return (f"finish was not accepted: {result.content}\nFix the work so that the check "
                    "passes, then call finish(result) again.")
    return None


def _no_tool_call(text: str | None, replies: int) -> str:
    said = (text or "").strip()
    quoted = f": {said[:300]!r}" if said else " (empty replies)"
    return (f"replied {replies} times in a row without calling a tool, so nothing was done or "
            f"finished{quoted}")


def _tool_message(
    subtask: Subtask, call: ToolCall, result: ToolResult, errors_left: int
) -> dict[str, Any]:
    # A long output enters the conversation as its first page; `recall` gives the others.
    content = first_page(result.content, call_id=call.id, subtask_id=subtask.id)
    if result.status in _ERROR_STATUSES:
        content += f"\n({errors_left} more tool error(s) in a row and this subtask fails.)"
    return {"role": "tool", "tool_call_id": call.id, "content": content}
