"""Each budget kind stops a run cleanly: status `budget_exhausted`, a partial report, no lost
record (every call the model received is a row, the event log ends with `run_finished`).

LiteLLM prices no scripted model, so the cost test gives each scripted call a price with
`Reply(cost_usd=...)`; the meter itself is also tested alone.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import types
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from agentkit import (
    Agent,
    Budget,
    BudgetExceeded,
    FunctionModel,
    ModelRequest,
    Plan,
    PlanStep,
    Reply,
    ToolCall,
    Usage,
    tool,
)
from agentkit.runtime import Meter
from agentkit.schema import CONTROL_TOOLS
from agentkit.store import Store

PLAN = Plan(strategy="three notes in a row", steps=[
    PlanStep(id="s1", title="Note one", difficulty="trivial"),
    PlanStep(id="s2", title="Note two", difficulty="trivial", depends_on=["s1"]),
    PlanStep(id="s3", title="Note three", difficulty="trivial", depends_on=["s2"]),
])


class Notes:
    """A tool that records its executions, and a model that calls it once per subtask."""

    def __init__(self, executor_tokens: int | None = None, on_call: Any = None) -> None:
        self.written: list[str] = []
        self.executor_tokens = executor_tokens
        self.on_call = on_call

        @tool
        def note(text: str) -> str:
            """Write a note."""
            self.written.append(text)
            return f"noted {text}"

        self.tool = note
        self.model = FunctionModel(self.reply)

    def reply(self, request: ModelRequest) -> object:
        if request.role == "strategist":
            return PLAN
        if request.role == "finalizer":
            return "all noted"
        if self.on_call is not None:
            self.on_call()
        title = request.messages[1]["content"].rsplit("): ", 1)[-1].splitlines()[0]
        done = any(m["role"] == "tool" for m in request.messages)
        call = (ToolCall(name="finish", arguments={"result": f"{title} done"}) if done
                else ToolCall(name="note", arguments={"text": title}))
        if self.executor_tokens is None:
            return call
        return Reply(tool_calls=[call], prompt_tokens=self.executor_tokens, completion_tokens=0)


def _check_stopped_cleanly(db: str, run_id: str, notes: Notes, kind: str) -> None:
    store = Store(db)
    run = store.get_run(run_id)
    assert run.status == "budget_exhausted"
    assert f"{kind} budget spent" in (run.error or "")
    assert "Partial results" in (run.answer or "")
    assert store.get_events(run_id)[-1].kind == "run_finished"
    usage = store.usage(run_id)
    assert len(notes.model.requests) == len(store.get_model_calls(run_id)) == usage.model_calls
    tool_rows = store.get_tool_calls(run_id)
    # `finish` is recorded, but it is not work: the tool-call budget leaves it out.
    assert len([r for r in tool_rows if r.name not in CONTROL_TOOLS]) == usage.tool_calls
    assert [r.name for r in tool_rows].count("note") == len(notes.written)
    statuses = [s.status for s in store.get_subtasks(run_id)]
    assert statuses[0] == "done" and "pending" in statuses  # partial, and resumable


async def _run(notes: Notes, db: str, workspace: Path, budget: Budget) -> str:
    # One subtask per note: the three trivial steps are not merged.
    budget = budget.model_copy(update={"merge_below_tokens": 0})
    agent = Agent(notes.model, tools=[notes.tool], db=db, workspace=workspace, budget=budget)
    result = await agent.run("Write three notes")
    assert result.status == "budget_exhausted", (result.status, result.error)
    return result.run_id


async def test_token_budget(db: str, workspace: Path) -> None:
    notes = Notes(executor_tokens=3_000)
    run_id = await _run(notes, db, workspace, Budget(max_tokens=9_000))
    _check_stopped_cleanly(db, run_id, notes, "tokens")
    assert Store(db).usage(run_id).total_tokens >= 9_000


async def test_model_call_budget(db: str, workspace: Path) -> None:
    notes = Notes()
    run_id = await _run(notes, db, workspace, Budget(max_model_calls=4))
    _check_stopped_cleanly(db, run_id, notes, "model_calls")
    assert len(notes.model.requests) == 4


async def test_tool_call_budget(db: str, workspace: Path) -> None:
    notes = Notes()
    run_id = await _run(notes, db, workspace, Budget(max_tool_calls=3))
    _check_stopped_cleanly(db, run_id, notes, "tool_calls")
    # Three notes for three tool calls: the `finish` calls between them are not counted.
    assert notes.written == ["Note one", "Note two", "Note three"]


async def test_time_budget(db: str, workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A fake clock: every executor call "takes" 10 seconds, with no sleeping.
    clock = {"now": time.monotonic()}
    monkeypatch.setattr("agentkit.runtime.time", types.SimpleNamespace(
        monotonic=lambda: clock["now"]))
    notes = Notes(on_call=lambda: clock.__setitem__("now", clock["now"] + 10))
    run_id = await _run(notes, db, workspace, Budget(max_seconds=25))
    _check_stopped_cleanly(db, run_id, notes, "time")
    assert len([r for r in notes.model.requests if r.role == "executor"]) == 3


def _priced(value: object, cost_usd: float) -> Reply:
    """`value`, a scripted reply, as a `Reply` that reports `cost_usd` for its call."""
    if isinstance(value, Reply):
        return dataclasses.replace(value, cost_usd=cost_usd)
    if isinstance(value, ToolCall):
        return Reply(tool_calls=[value], cost_usd=cost_usd)
    text = value.model_dump_json() if isinstance(value, BaseModel) else str(value)
    return Reply(text=text, cost_usd=cost_usd)


async def test_cost_budget(db: str, workspace: Path) -> None:
    notes = Notes()
    script = notes.model.fn
    notes.model.fn = lambda request: _priced(script(request), 0.01)
    run_id = await _run(notes, db, workspace, Budget(max_cost_usd=0.035))
    _check_stopped_cleanly(db, run_id, notes, "cost")
    assert Store(db).usage(run_id).cost_usd == pytest.approx(0.04)


def test_the_meter_stops_at_each_limit() -> None:
    cases = {
        "tokens": (Budget(max_tokens=100), Usage(prompt_tokens=60, completion_tokens=40)),
        "cost": (Budget(max_cost_usd=0.5), Usage(cost_usd=0.5)),
        "model_calls": (Budget(max_model_calls=2), Usage(model_calls=2)),
        "tool_calls": (Budget(max_tool_calls=2), Usage(tool_calls=2)),
    }
    for kind, (budget, usage) in cases.items():
        meter = Meter(budget=budget, usage=usage)
        with pytest.raises(BudgetExceeded) as info:
            meter.check()
        assert info.value.kind == kind
        Meter(budget=budget, usage=Usage()).check()  # under every limit: no error
    late = Meter(budget=Budget(max_seconds=5), usage=Usage(), started=time.monotonic() - 6)
    assert late.exhausted() is not None and late.exhausted()[0] == "time"  # type: ignore[index]


async def test_tool_calls_are_checked_before_each_tool_call(db: str, workspace: Path) -> None:
    written: list[str] = []

    @tool
    def note(text: str) -> str:
        """Write a note."""
        written.append(text)
        return "noted"

    def reply(request: ModelRequest) -> object:
        if request.role == "strategist":
            return Plan(strategy="s", steps=[PlanStep(id="s1", title="Notes", difficulty="easy")])
        if request.role == "finalizer":
            return "done"
        return [ToolCall(name="note", arguments={"text": str(i)}) for i in range(5)]

    model = FunctionModel(reply)
    agent = Agent(model, tools=[note], db=db, workspace=workspace,
                  budget=Budget(max_tool_calls=2))
    result = await agent.run("Write notes")

    assert result.status == "budget_exhausted"
    assert written == ["0", "1"]  # the other three calls of that one reply never ran
    assert len(Store(db).get_tool_calls(result.run_id)) == 2


def _parallel_plan(request: ModelRequest, call: ToolCall) -> object:
    """Four independent steps; each executor makes `call` until its result comes back."""
    if request.role == "strategist":
        return Plan(strategy="s", steps=[PlanStep(id=f"s{i}", title=f"Part {i}",
                                                  difficulty="easy") for i in range(1, 5)])
    if request.role == "finalizer":
        return "done"
    if not [m for m in request.messages if m["role"] == "tool"]:
        return call
    return ToolCall(name="finish", arguments={"result": "ok"})


async def test_parallel_executors_never_pass_the_tool_call_limit(
    db: str, workspace: Path
) -> None:
    @tool
    async def slow_note(text: str) -> str:
        """Write a note, slowly."""
        await asyncio.sleep(0.3)
        return "noted"

    call = ToolCall(name="slow_note", arguments={"text": "x"})
    agent = Agent(FunctionModel(lambda r: _parallel_plan(r, call)), tools=[slow_note], db=db,
                  workspace=workspace, budget=Budget(max_tool_calls=3), max_concurrency=4)
    result = await agent.run("Write four notes")

    assert result.status == "budget_exhausted"
    ran = [c for c in Store(db).get_tool_calls(result.run_id) if c.name == "slow_note"]
    assert len(ran) == 3  # four executors ran at once; the fourth call was refused


async def test_the_time_budget_cuts_off_a_hanging_tool(db: str, workspace: Path) -> None:
    @tool(timeout=600)
    async def hang() -> str:
        """Never returns."""
        await asyncio.sleep(600)
        return "never"

    def reply(request: ModelRequest) -> object:
        if request.role == "strategist":
            return Plan(strategy="s", steps=[PlanStep(id="s1", title="Hang", difficulty="easy")])
        if request.role == "finalizer":
            return "stopped"
        return ToolCall(name="hang", arguments={})

    agent = Agent(FunctionModel(reply), tools=[hang], db=db, workspace=workspace,
                  budget=Budget(max_seconds=3))
    started = time.monotonic()
    result = await agent.run("Hang")
    assert time.monotonic() - started < 60  # not the tool's 600 s: the run's 3 s budget
    assert result.status == "budget_exhausted"
    (cut,) = Store(db).get_tool_calls(result.run_id)
    assert (cut.name, cut.status) == ("hang", "cut_off")
    assert "cut off by the run's time budget (3s)" in cut.result
    assert [s.status for s in result.subtasks] == ["pending"]  # it runs again on resume
