"""Scripted runs of every kind a replay must reproduce: compacted, forked, approved, parallel,
resumed after a kill. `python -m tests.replay_kinds KIND DB WORKSPACE` records one and prints
its run id (the killed kind kills that process; resume it with `resume`)."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path

from agentkit import (
    Agent,
    Budget,
    FunctionModel,
    ModelRequest,
    Plan,
    PlanStep,
    ToolCall,
    load_tools,
)
from tests.scripts import subtask_title, tool_results

TOOLS = Path(__file__).with_name("replay_tools.py")
KINDS = ("compacted", "forked", "approved", "parallel", "killed")
RECORDS = 8


def compacted(request: ModelRequest) -> object:
    """Reads records until the context manager masks and summarizes, then recalls one."""
    if request.role == "strategist":
        return Plan(strategy="read", steps=[PlanStep(id="s1", title="Read the records",
                                                     difficulty="hard")])
    if request.role == "summarizer":
        text = request.messages[-1]["content"]
        found = dict(re.findall(r"\b(key_\d+) = (value-\d+)", text))
        return {"goal": "audit", "facts": [{"key": k, "value": v} for k, v in found.items()]}
    if request.role == "finalizer":
        return request.last_user_text.rsplit("Read the records: ", 1)[-1]
    read = [json.loads(c["function"]["arguments"])["n"] for m in request.messages
            for c in m.get("tool_calls") or [] if c["function"]["name"] == "read_record"]
    recalled = any(c["function"]["name"] == "recall" for m in request.messages
                   for c in m.get("tool_calls") or [])
    if max(read, default=0) < RECORDS:
        return ToolCall(name="read_record", arguments={"n": max(read, default=0) + 1})
    stub = re.search(r"#(m\d+)", " ".join(str(m.get("content")) for m in request.messages))
    if stub and not recalled:
        return ToolCall(name="recall", arguments={"query": stub.group(1)})
    return ToolCall(name="finish", arguments={"result": f"read {RECORDS} records"})


TWO_STEPS = Plan(strategy="two reads", steps=[
    PlanStep(id="s1", title="Read record 1"),
    PlanStep(id="s2", title="Read record 2", depends_on=["s1"]),
])


def forking(succeed: bool) -> FunctionModel:
    """The second step fails in the original (no revisions allowed); the fork's succeeds."""

    def script(request: ModelRequest) -> object:
        if request.role == "strategist":
            return TWO_STEPS
        if request.role == "finalizer":
            return "both read" if succeed else "second failed"
        title, results = subtask_title(request), tool_results(request)
        if not results:
            return ToolCall(name="read_record", arguments={"n": int(title[-1])})
        if title.endswith("2") and not succeed:
            return ToolCall(name="fail", arguments={"reason": "record 2 unreadable"})
        return ToolCall(name="finish", arguments={"result": results[-1][-14:]})

    return FunctionModel(script)


def approving(request: ModelRequest) -> object:
    if request.role == "strategist":
        return Plan(strategy="deploy", steps=[PlanStep(id="s1", title="Deploy the site")])
    if request.role == "finalizer":
        return request.last_user_text.rsplit("Deploy the site: ", 1)[-1]
    results = tool_results(request)
    if not results:
        return [ToolCall(name="deploy", arguments={"target": "staging"}, id="c1"),
                ToolCall(name="deploy", arguments={"target": "production"}, id="c2")]
    if len(results) < 2:
        return ToolCall(name="finish", arguments={"result": results[-1]})
    return ToolCall(name="finish", arguments={"result": " / ".join(results)})


FAN_OUT = Plan(strategy="three at once", steps=[
    PlanStep(id="a", title="Note aaaa", difficulty="trivial"),
    PlanStep(id="b", title="Note b", difficulty="trivial"),
    PlanStep(id="c", title="Think hard", difficulty="hard"),
])


async def parallel(request: ModelRequest) -> object:
    """Three concurrent subtasks whose calls finish in another order than they start; one
    samples with think_parallel."""
    if request.role == "strategist":
        return FAN_OUT
    if request.role == "finalizer":
        return "all three done"
    if request.role == "thinker":
        await asyncio.sleep(0.01 * (len(request.messages[-1]["content"]) % 3))
        return "Answer: 42"
    title, results = subtask_title(request), tool_results(request)
    if title == "Think hard":
        if not results:
            return ToolCall(name="think_parallel", arguments={"question": "6 x 7?", "n": 3})
        return ToolCall(name="finish", arguments={"result": results[-1].splitlines()[0]})
    if not results:
        return ToolCall(name="note", arguments={"text": title.split()[-1]})
    await asyncio.sleep(0.02)
    return ToolCall(name="finish", arguments={"result": results[-1]})


def killing(request: ModelRequest) -> object:
    if request.role == "strategist":
        return Plan(strategy="append", steps=[PlanStep(id="s1", title="Append the entry")])
    if request.role == "finalizer":
        return request.last_user_text.rsplit("Append the entry: ", 1)[-1]
    results = tool_results(request)
    if not results:
        return ToolCall(name="append_entry", arguments={"text": "entry"})
    return ToolCall(name="finish", arguments={"result": results[-1][:60]})


def thinking_killed(request: ModelRequest) -> object:
    """Samples (at a cost past the subtask's budget) and appends in one step; the append kills
    the process the first time, so the resumed step is served the sampling's result."""
    from agentkit import Reply

    if request.role == "strategist":
        return Plan(strategy="think", steps=[PlanStep(id="s1", title="Think and append",
                                                      difficulty="hard")])
    if request.role == "thinker":
        return Reply(text="Answer: 42", completion_tokens=40_000)
    if request.role == "finalizer":
        return "stopped"
    if not tool_results(request):
        return [ToolCall(name="think_parallel", arguments={"question": "6 x 7?", "n": 2}),
                ToolCall(name="append_entry", arguments={"text": "entry"})]
    return ToolCall(name="finish", arguments={"result": "appended"})


KILLERS = {"killed": killing, "thinking_killed": thinking_killed}


def agent(model: FunctionModel, db: str, workspace: Path, **options: object) -> Agent:
    return Agent(model, tools=[load_tools(TOOLS)], db=db, workspace=workspace,
                 **options)  # type: ignore[arg-type]


def record(kind: str, db: str, workspace: Path) -> str:
    """Record a run of `kind` to its end; return the id of the run to replay."""
    if kind == "compacted":
        return agent(FunctionModel(compacted), db, workspace,
                     max_prompt_tokens=2400).run_sync("Audit the records").run_id
    if kind == "forked":
        first = agent(forking(False), db, workspace, budget=Budget(max_revisions=0))
        original = first.run_sync("Read both records").run_id
        return agent(forking(True), db, workspace).fork_sync(original, 1).run_id
    if kind == "approved":
        runner = agent(FunctionModel(approving), db, workspace)
        result, allow = runner.run_sync("Deploy the site"), True
        while result.status == "awaiting_approval":  # staging allowed, then production denied
            result, allow = runner.approve_sync(result.run_id, allow), False
        return result.run_id
    if kind == "parallel":
        return agent(FunctionModel(parallel), db, workspace,
                     max_concurrency=3).run_sync("Note and think").run_id
    if kind in KILLERS:  # the first try of append_entry kills this process
        return agent(FunctionModel(KILLERS[kind]), db, workspace,
                     budget=Budget(max_revisions=0)).run_sync("Append one entry").run_id
    raise ValueError(f"unknown kind {kind!r}; one of {KINDS}")


def resume(kind: str, db: str, workspace: Path, run_id: str) -> str:
    return agent(FunctionModel(KILLERS[kind]), db, workspace,
                 budget=Budget(max_revisions=0)).run_sync_resume(run_id).run_id


if __name__ == "__main__":
    if sys.argv[1] == "resume":
        print(resume(sys.argv[2], sys.argv[3], Path(sys.argv[4]), sys.argv[5]))
    else:
        print(record(sys.argv[1], sys.argv[2], Path(sys.argv[3])))
