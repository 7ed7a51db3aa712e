"""The agent run the SIGKILL sweep kills: `python -m bench._kill_worker run|resume DB LOG [RUN]`.

Three subtasks (two in parallel, then one after both) each append numbered lines to LOG with
`record`, a tool with a side effect outside the run database. The scripted model does what a
careful model does with a call reported in doubt: it asks `recorded(n)` and appends only if the
line is not there. Prints one JSON line: the run's id and status.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
import uuid
from typing import Any

from agentkit import Agent, FunctionModel, ModelRequest, Plan, PlanStep, ToolCall, tool

PER_STEP = 4
PLAN = Plan(strategy="Append numbered lines.", steps=[
    PlanStep(id="s1", title="Lines 1", difficulty="hard"),
    PlanStep(id="s2", title="Lines 2", difficulty="hard"),
    PlanStep(id="s3", title="Lines 3", depends_on=["s1", "s2"], difficulty="hard"),
])
EFFECTS = PER_STEP * len(PLAN.steps)  # the lines a finished run has appended, each once


def _log() -> str:
    return os.environ["AGENTKIT_KILL_LOG"]


@tool
def record(n: int) -> str:
    """Append line n to the effect log (not idempotent: a repeat appends it twice).

    Args:
        n: the line's number.
    """
    time.sleep(random.uniform(0, 0.02))  # a window for a kill inside the call
    with open(_log(), "a") as f:
        f.write(f"{n}\n")
    time.sleep(random.uniform(0, 0.02))
    return f"recorded {n}"


@tool(idempotent=True)
def recorded(n: int) -> str:
    """Whether line n is in the effect log: 'yes' or 'no'.

    Args:
        n: the line's number.
    """
    with open(_log()) as f:
        return "yes" if str(n) in f.read().split() else "no"


def _calls(request: ModelRequest) -> list[tuple[str, int, str]]:
    """(tool name, n, result) of this subtask's calls so far, in order."""
    asked = {c["id"]: (c["function"]["name"], json.loads(c["function"]["arguments"]).get("n", 0))
             for m in request.messages for c in m.get("tool_calls") or []}
    return [(*asked[m["tool_call_id"]], m["content"]) for m in request.messages
            if m["role"] == "tool" and m.get("tool_call_id") in asked]


def script(request: ModelRequest) -> object:
    if request.role == "strategist":
        return PLAN
    if request.role == "finalizer":
        return f"{EFFECTS} lines"
    title = request.messages[1]["content"].split("Your subtask (")[1].split("): ")[1]
    base = (int(title.split("\n")[0].split()[-1]) - 1) * PER_STEP
    calls = _calls(request)
    done = {n for name, n, out in calls if out in (f"recorded {n}", "yes")}
    if calls and calls[-1][0] == "record" and calls[-1][2] != f"recorded {calls[-1][1]}":
        return _call("recorded", calls[-1][1])  # in doubt: look before appending again
    todo = [n for n in range(base + 1, base + PER_STEP + 1) if n not in done]
    if not todo:
        return ToolCall(name="finish", arguments={"result": f"lines {base + 1}-{base + PER_STEP}"})
    return _call("record", todo[0])


def _call(name: str, n: int) -> ToolCall:
    # A fresh id per call, as providers give: only the journal can tell a repeat.
    return ToolCall(name=name, arguments={"n": n}, id=f"call_{uuid.uuid4().hex}")


def main(argv: list[str]) -> dict[str, Any]:
    mode, db = argv[0], argv[1]
    agent = Agent(FunctionModel(script), tools=[record, recorded], db=db,
                  workspace=os.path.dirname(db))
    if mode == "run":
        result = agent.run_sync("append the numbered lines")
    else:
        result = agent.run_sync_resume(argv[2])
    return {"run_id": result.run_id, "status": result.status}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])), flush=True)
