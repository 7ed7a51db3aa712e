"""A tool with a side effect, and a scripted model, for crash-and-resume tests."""

from __future__ import annotations

import os
import signal

from agentkit import ModelRequest, Plan, PlanStep, ToolCall, ToolContext, tool

PLAN = Plan(strategy="append once", steps=[PlanStep(id="s1", title="Append the line")])


@tool
def append_line(text: str, ctx: ToolContext) -> str:
    """Append a line to ledger.txt (not idempotent: a repeat would add it twice).

    Args:
        text: the line to append.
    """
    with open(ctx.resolve("ledger.txt"), "a") as f:
        f.write(text + "\n")
    if os.environ.get("CRASH_AT") == "tool":
        os.kill(os.getpid(), signal.SIGKILL)  # after the side effect, before the result
    return "appended"


def appender(request: ModelRequest) -> object:
    if request.role == "strategist":
        return PLAN
    if request.role == "finalizer":
        return "appended once"
    results = [m["content"] for m in request.messages if m["role"] == "tool"]
    if not results:
        return ToolCall(name="append_line", arguments={"text": "entry"})
    if os.environ.get("CRASH_AT") == "after_tool":
        os.kill(os.getpid(), signal.SIGKILL)  # the tool's result is recorded; the next call is not
    return ToolCall(name="finish", arguments={"result": results[-1][:80]})
