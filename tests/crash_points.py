"""Scripted runs that kill their own process at a chosen point, for resume tests."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import uuid

from agentkit import ModelRequest, Plan, PlanStep, ToolCall, ToolContext, tool

RECORDS = 8
FILLER = "The audit log lists shelves, bins and counts for the warehouse. " * 30


def die_at(point: str) -> None:
    if os.environ.get("CRASH_AT") == point:
        os.kill(os.getpid(), signal.SIGKILL)


@tool
async def append_slow(text: str, ctx: ToolContext) -> str:
    """Append a line to ledger.txt after a short wait (not idempotent).

    Args:
        text: the line to append.
    """
    await asyncio.sleep(0.3)
    with open(ctx.resolve("ledger.txt"), "a") as f:
        f.write(text + "\n")
    return "appended " + text


@tool(idempotent=True)
def read_record(n: int) -> str:
    """Read audit record n.

    Args:
        n: the record number.
    """
    return f"{FILLER}\nkey_{n} = value-{n}"


FAN_OUT = Plan(strategy="three at once", steps=[
    PlanStep(id="a", title="Quick a", difficulty="trivial"),
    PlanStep(id="b", title="Quick b", difficulty="trivial"),
    PlanStep(id="c", title="Slow c", difficulty="trivial"),
])


def fan_out(request: ModelRequest) -> object:
    """Three parallel subtasks; c is killed on its second call, after a and b finished."""
    if request.role == "strategist":
        return FAN_OUT
    if request.role == "finalizer":
        return "all three done"
    prompt = request.messages[1]["content"]
    results = [m["content"] for m in request.messages if m["role"] == "tool"]
    title = prompt.split("Your subtask (")[1].split("): ")[1].split("\n")[0]
    if title != "Slow c":
        return ToolCall(name="finish", arguments={"result": f"{title} done"})
    if not results:
        # A fresh id per call, as real providers give: a repeat can only be avoided by the
        # journal recognising the same request, not by a reused id.
        return ToolCall(name="append_slow", arguments={"text": "c"}, id=f"call_{uuid.uuid4().hex}")
    die_at("fan_out")
    return ToolCall(name="finish", arguments={"result": results[-1]})


AUDIT = Plan(strategy="read records", steps=[PlanStep(id="s1", title="Read the records",
                                                      difficulty="hard")])


def audit(request: ModelRequest) -> object:
    """Reads records until the context manager must summarize; killed inside the summarizer."""
    if request.role == "strategist":
        return AUDIT
    if request.role == "summarizer":
        die_at("compaction")
        text = request.messages[-1]["content"]
        found = dict(re.findall(r"\b(key_\d+) = (value-\d+)", text))
        return {"goal": "audit", "done": [f"read the records of {', '.join(found)}"[:400]],
                "facts": [{"key": k, "value": v} for k, v in found.items()]}
    if request.role == "finalizer":
        return request.last_user_text.rsplit("Read the records: ", 1)[-1]
    # The last record read, from the calls still in the prompt (older ones get compacted away).
    read = [json.loads(c["function"]["arguments"])["n"] for m in request.messages
            for c in m.get("tool_calls") or [] if c["function"]["name"] == "read_record"]
    last = max(read, default=0)
    if last >= RECORDS:
        return ToolCall(name="finish", arguments={"result": f"read {RECORDS} records"})
    return ToolCall(name="read_record", arguments={"n": last + 1})
