"""Scripted models that behave like a competent model would, for end-to-end tests."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentkit import (
    Agent,
    Budget,
    FunctionModel,
    ModelRequest,
    Store,
    ToolCall,
    Toolset,
    load_tools,
)
from agentkit.models import ModelClient
from agentkit.runtime import RunContext
from agentkit.schema import Plan, PlanStep

PRIMES_PROGRAM = (
    "n, found = 2, []\n"
    "while len(found) < 10:\n"
    "    if all(n % p for p in found):\n"
    "        found.append(n)\n"
    "    n += 1\n"
    "print(found)\n"
)

HELLO_PLAN = Plan(
    strategy="Write the program, then run it and report its output.",
    steps=[
        PlanStep(id="s1", title="Write hello.py", instructions="Write hello.py printing the "
                 "first 10 primes.", success_criteria="hello.py exists", difficulty="easy"),
        PlanStep(id="s2", title="Run hello.py", instructions="Run it with python.",
                 success_criteria="the output lists 10 primes", depends_on=["s1"],
                 difficulty="easy"),
    ],
)


def subtask_title(request: ModelRequest) -> str:
    match = re.search(r"Your subtask \((t\d+)\): (.*)", request.messages[1]["content"])
    assert match, "executor prompt names its subtask"
    return match.group(2)


def tool_results(request: ModelRequest) -> list[str]:
    return [m["content"] for m in request.messages if m["role"] == "tool"]


def hello_primes(request: ModelRequest) -> object:
    """Plans, writes hello.py, runs it, and reports — reacting to real tool results."""
    if request.role == "strategist":
        return HELLO_PLAN
    if request.role == "finalizer":
        return "hello.py prints " + request.last_user_text.rsplit("Run hello.py: ", 1)[-1]
    title, results = subtask_title(request), tool_results(request)
    if title == "Write hello.py":
        if not results:
            return ToolCall(name="write_file",
                            arguments={"path": "hello.py", "content": PRIMES_PROGRAM})
        return ToolCall(name="finish", arguments={"result": "wrote hello.py"})
    if not results:
        return ToolCall(name="run_shell", arguments={"command": "python hello.py"})
    output = results[-1].splitlines()[-1]
    return ToolCall(name="finish", arguments={"result": output})


def single_tool_step(title: str, call: ToolCall) -> Callable[[ModelRequest], object]:
    """A one-step plan whose executor makes `call` once, then finishes with the tool's result."""
    plan = Plan(
        strategy="Call the tool once and report what it said.",
        steps=[PlanStep(id="s1", title=title, instructions=f"{title}.",
                        success_criteria="the tool answered", difficulty="easy")],
    )

    def script(request: ModelRequest) -> object:
        if request.role == "strategist":
            return plan
        if request.role == "finalizer":
            return request.last_user_text.rsplit(f"{title}: ", 1)[-1]
        results = tool_results(request)
        if not results:
            return call
        return ToolCall(name="finish", arguments={"result": results[-1]})

    return script


HELLO_GOAL = "Create hello.py that prints the first 10 primes, then run it"


def hello_agent(
    db: str, workspace: Path, model: FunctionModel | None = None, **options: Any
) -> Agent:
    """An agent with the files and shell packs, driven by `hello_primes` unless told otherwise."""
    return Agent(model or FunctionModel(hello_primes), db=db, workspace=workspace,
                 tools=[load_tools("files"), load_tools("shell")], **options)


def run_context(
    model: FunctionModel, workspace: Path, tools: Toolset, *, db: str | None = None,
    goal: str = "g", **settings: Any,
) -> RunContext:
    """A fresh run's context on a real store, for driving one part of the graph (the executor)."""
    store = Store(db or str(workspace.parent / "runs.db"))
    run_id = store.create_run(goal=goal, model=model.model_name, workspace=str(workspace),
                              settings={})
    return RunContext(run_id=run_id, goal=goal, store=store,
                      models=ModelClient(default=model.model_name), tools=tools,
                      workspace=workspace, budget=Budget(), **settings)
