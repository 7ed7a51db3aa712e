"""Tools cannot hang or kill the agent: BaseExceptions, calls that never return, swallowed
cancellation. Each ends as a recorded tool error within the tool's timeout, and the run goes on."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from agentkit import Agent, FunctionModel, ToolCall, ToolContext, tool
from agentkit.store import Store
from tests.scripts import single_tool_step


@tool
def exits(code: int) -> str:
    """Exit the way argparse does on bad input."""
    raise SystemExit(code)


@tool
async def interrupts() -> str:
    """Raise KeyboardInterrupt inside the event loop."""
    raise KeyboardInterrupt


@tool(timeout=0.2)
def never_returns() -> str:
    """Wait forever."""
    threading.Event().wait()
    return "unreachable"


@tool(timeout=0.2)
async def stubborn() -> str:
    """Swallow every cancellation."""
    while True:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            continue


@pytest.mark.parametrize(("misbehaving", "status", "text"), [
    (exits, "error", "raised SystemExit: 2"),
    (interrupts, "error", "raised KeyboardInterrupt"),
    (never_returns, "timeout", "did not finish within 0.2s"),
    (stubborn, "timeout", "did not finish within 0.2s"),
])
async def test_a_misbehaving_tool_is_an_error_result(
    misbehaving: object, status: str, text: str, workspace: Path
) -> None:
    started = time.monotonic()
    result = await misbehaving.run({"code": 2} if misbehaving is exits else {},  # type: ignore[attr-defined]
                                   ToolContext(workspace=workspace))
    assert (result.status, text in result.content) == (status, True), result.content
    assert time.monotonic() - started < 2


async def test_the_run_goes_on_after_a_tool_exits(db: str, workspace: Path) -> None:
    model = FunctionModel(single_tool_step("Parse the flags", ToolCall(name="exits",
                                                                       arguments={"code": 2})))
    result = await Agent(model, tools=[exits], db=db, workspace=workspace).run("Parse the flags")

    assert result.status == "completed"
    calls = Store(db).get_tool_calls(result.run_id)
    assert [(c.name, c.status) for c in calls] == [("exits", "error"), ("finish", "ok")]


def test_run_sync_returns_when_a_tool_never_does(db: str, workspace: Path) -> None:
    """A thread left behind by a timed-out sync tool does not hold up the process at exit."""
    program = f"""
import threading
from agentkit import Agent, FunctionModel, ToolCall, tool
from tests.scripts import single_tool_step

@tool(timeout=0.2)
def never_returns() -> str:
    '''Wait forever.'''
    threading.Event().wait()

model = FunctionModel(single_tool_step("Wait", ToolCall(name="never_returns")))
agent = Agent(model, tools=[never_returns], db={db!r}, workspace={str(workspace)!r})
result = agent.run_sync("Wait")
print(result.status)
"""
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=60, cwd=Path(__file__).parent.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "completed"
    calls = Store(db).get_tool_calls(Store(db).list_runs()[0].id)
    assert [(c.name, c.status) for c in calls] == [("never_returns", "timeout"),
                                                         ("finish", "ok")]


async def test_grep_with_a_catastrophic_pattern_stops_at_its_deadline(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentkit import load_tools

    (workspace / "a.txt").write_text("a" * 40 + "!\n")
    grep = load_tools("files").get("grep")
    assert grep is not None
    monkeypatch.setitem(grep.function.__globals__, "GREP_SECONDS", 0.5)
    ctx = ToolContext(workspace=workspace)
    # The example: linear on grep's engine, where Python's `re` backtracks for minutes.
    assert (await grep.run({"pattern": "(a+)+$"}, ctx)).content == "[]"
    started = time.monotonic()
    result = await grep.run({"pattern": "(a|aa)+$"}, ctx)  # exponential on any backtracker
    assert result.status == "error" and "catastrophic backtracking" in result.content
    assert time.monotonic() - started < 2
    found = await grep.run({"pattern": "a+!"}, ctx)
    assert found.content == '["a.txt:1: ' + "a" * 40 + '!"]'
