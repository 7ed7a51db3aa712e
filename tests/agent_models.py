"""Model factories that agent files name (`tests/agent_models.py:main`), so scripted agents run,
resume and replay from the command line. Set AK_CRASH=1 to kill the process (SIGKILL) where a
test wants it cut off; the resumed process runs without it."""

from __future__ import annotations

import os
import signal

from agentkit import FunctionModel, ModelRequest, Plan, PlanStep, ToolCall
from tests.scripts import hello_primes, subtask_title, tool_results


def _crashing_hello(request: ModelRequest) -> object:
    """`hello_primes`, killed before running hello.py when AK_CRASH=1."""
    if (os.environ.get("AK_CRASH") == "1" and request.role == "executor"
            and subtask_title(request) == "Run hello.py"):
        os.kill(os.getpid(), signal.SIGKILL)
    return hello_primes(request)


def main() -> FunctionModel:
    """The default model: plans and answers."""
    return FunctionModel(_crashing_hello, name="ak-main")


def fast() -> FunctionModel:
    """The `fast` tier: the easy subtasks of `hello_primes` run on it."""
    return FunctionModel(_crashing_hello, name="ak-fast")


def final() -> FunctionModel:
    """The finalizer's own model."""
    return FunctionModel(_crashing_hello, name="ak-final")


LEDGER_PLAN = Plan(
    strategy="Record two entries in the ledger, one per step.",
    steps=[
        PlanStep(id="s1", title="Record one", instructions="Append 'one'.", difficulty="easy"),
        PlanStep(id="s2", title="Record two", instructions="Append 'two'.", depends_on=["s1"],
                 difficulty="easy"),
    ],
)


def _ledger(request: ModelRequest) -> object:
    """Appends one entry per step through the MCP server's `append_entry`; with AK_CRASH=1 the
    process is killed once the second entry is written (its result recorded, not answered)."""
    if request.role == "strategist":
        return LEDGER_PLAN
    if request.role == "finalizer":
        return "recorded one and two"
    word = subtask_title(request).removeprefix("Record ")
    results = tool_results(request)
    if not results:
        return ToolCall(name="ledger_append_entry", arguments={"text": word})
    if os.environ.get("AK_CRASH") == "1" and word == "two":
        os.kill(os.getpid(), signal.SIGKILL)
    return ToolCall(name="finish", arguments={"result": results[-1]})


def ledger() -> FunctionModel:
    return FunctionModel(_ledger, name="ak-ledger")
