"""`RunContext`: what graph nodes get from the runtime — the run's store, models, tools, budget
meter and events, and the one path of every model and tool call.

A run is in one mode for its whole life in a process, set when the context is built:

- `fresh`: nothing recorded yet; every call is made and recorded;
- `resume`: the run was cut off; calls it had already made are served from its journal and not
  recorded again, a call in flight at the cut is *in doubt*;
- `replay`: a new run re-enacted from another run's record (`source`, a strict journal): the same
  code runs, and where the original called a model or ran a tool its recorded answer is taken
  instead and recorded anew, at the position the original wrote it (`cue`), so the new run's
  record mirrors the original's. A replay lives the original's lives: after a kill or a pause its
  own journal serves what it already did, exactly as the original's resume did.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from agentkit import tracing
from agentkit.context import ContextManager
from agentkit.errors import BudgetExceeded
from agentkit.events import Emitter, EventKind, EventListener
from agentkit.models import ModelClient, ModelRequest, ModelResponse, ToolCall
from agentkit.sandbox import SandboxMode
from agentkit.schema import CONTROL_TOOLS, Budget, Plan, Usage
from agentkit.store import RunRecord, RunStore
from agentkit.store.journal import Cue, Journal, ReplayDivergence
from agentkit.store.records import ToolCallRow
from agentkit.tools import Tool, ToolContext, ToolResult, Toolset

RunMode = Literal["fresh", "resume", "replay"]
DENIED = "The user denied this call of {name!r}; do not call it again with the same arguments."
IN_DOUBT = (
    "This call of {name!r} was in flight when the run stopped; whether it took effect is unknown, "
    "so it was not repeated. Check the current state before calling it again."
)

# Asks a person whether a tool call may run (the graph pauses the run for the answer).
Approver = Callable[[dict[str, Any]], bool]

__all__ = ["DENIED", "IN_DOUBT", "Approver", "EventListener", "Meter", "RunContext", "RunMode"]

# Tools that only call models through the run's client (agentkit's thinking tools): on resume
# and replay they run again, their model calls served, so their tokens count as they did.
_MODEL_TOOLS = frozenset({("agentkit", "think_parallel"), ("agentkit", "think_longer")})


# Set while such a tool runs again only to count its tokens: every call must be served.
_RECOUNTING: ContextVar[bool] = ContextVar("agentkit_recounting", default=False)


class _NotRecorded(Exception):
    """A recount reached a model call the record does not hold (a run recorded by an older
    agentkit): it stops there rather than ask a model again."""


def _calls_models(tool: Tool) -> bool:
    return (tool.source, tool.name) in _MODEL_TOOLS


def _was_in_doubt(call: ToolCall, result: ToolResult) -> bool:
    """Whether `result` is the in-doubt answer (given without asking for approval)."""
    return result.status == "error" and result.content == IN_DOUBT.format(name=call.name)


@dataclass(kw_only=True)
class Meter:
    """Spending so far, kept in memory (initialized from the records) and checked before calls."""

    budget: Budget
    usage: Usage
    started: float = field(default_factory=time.monotonic)
    # Model calls checked and under way: parallel calls (think_parallel's samples, parallel
    # subtasks) each count before any of them is recorded, so together they cannot overshoot.
    in_flight: int = 0
    tools_in_flight: int = 0  # the same for tool calls (released once the call is recorded)

    def elapsed(self) -> float:
        """Seconds since the run (or its resumption) started."""
        return time.monotonic() - self.started

    def exhausted(self) -> tuple[str, str] | None:
        """The first spent budget as (kind, message), or None."""
        return self.budget.exhausted(self.usage, self.elapsed())

    def check(self) -> None:
        if (hit := self.exhausted()) is not None:
            raise BudgetExceeded(*hit)

    def reserve_model_call(self) -> float | None:
        """Check the budget before a model call, counting the calls already under way; return
        the seconds left of the time budget (None without one)."""
        left = self._reserve("model_calls", self.in_flight)
        self.in_flight += 1
        return left

    def reserve_tool_call(self) -> float | None:
        """Check the budget before a tool call, counting the calls already under way (so
        parallel executors cannot pass `max_tool_calls`); return the seconds of time left."""
        left = self._reserve("tool_calls", self.tools_in_flight)
        self.tools_in_flight += 1
        return left

    def _reserve(self, kind: Literal["model_calls", "tool_calls"], in_flight: int) -> float | None:
        pending = self.usage.model_copy(
            update={kind: getattr(self.usage, kind) + in_flight})
        elapsed = self.elapsed()
        if (hit := self.budget.exhausted(pending, elapsed)) is not None:
            raise BudgetExceeded(*hit)
        return None if self.budget.max_seconds is None else self.budget.max_seconds - elapsed

    def left_note(self) -> str:
        """What is left of the budget, for prompts."""
        return self.budget.left_note(self.usage, self.elapsed())

    def add(self, response: ModelResponse | None, *, reserved: bool) -> None:
        """Count one model call (`reserved`: it was checked by `reserve_model_call`)."""
        if reserved:
            self.in_flight -= 1
        u = self.usage
        if response is not None:
            u.prompt_tokens += response.prompt_tokens
            u.completion_tokens += response.completion_tokens
            u.cost_usd += response.cost_usd
        u.model_calls += 1


@dataclass(kw_only=True)
class RunContext:
    """Per-run dependencies of the graph nodes (LangGraph runtime context).

    Args:
        models: which model each role and tier uses; the context binds it to its own hooks
            (`client`), so every model call is served, checked and recorded here.
        journal: the run's own record, served in `resume` mode (and in a replay's later lives).
        source: in `replay` mode, the original's record (strict), taken in place of each model
            call and tool run; `cue` says when each may be written.
        approve: asks for approval of a `needs_approval` tool call; None runs them unasked.
        initial_plan: a saved plan to start from instead of asking the strategist.
        max_prompt_tokens: a cap on executor prompts (see `ContextManager`).
        sandbox, sandbox_network: how tools confine the programs they start (`ToolContext`).
        calibrate_run: whether a classifier call first decides if one executor can do the goal
            (`agentkit.planning.scope`); None: only when the strategist's model is small.
    """

    run_id: str
    goal: str
    store: RunStore
    models: ModelClient
    tools: Toolset
    workspace: Path
    budget: Budget
    mode: RunMode = "fresh"
    journal: Journal | None = None
    source: Journal | None = None
    cue: Cue | None = None
    approve: Approver | None = None
    listener: EventListener | None = None
    initial_plan: Plan | None = None
    initial_trigger: str = "plan_file"
    max_prompt_tokens: int | None = None
    sandbox: SandboxMode = "bwrap"
    sandbox_network: bool = False
    calibrate_run: bool | None = None
    records: RunRecord = field(init=False)
    meter: Meter = field(init=False)
    events: Emitter = field(init=False)
    client: ModelClient = field(init=False)
    context: ContextManager = field(init=False)

    def __post_init__(self) -> None:
        if self.mode == "fresh" and (self.journal, self.source) != (None, None):
            raise ValueError("a fresh run has no journal")
        if self.mode == "resume" and self.journal is None:
            raise ValueError("a resumed run needs its journal")
        if self.mode == "replay" and (self.source is None or self.cue is None):
            raise ValueError("a replay needs the original's record and a cue")
        self.records = self.store.run(self.run_id)
        self.meter = Meter(budget=self.budget, usage=self.records.usage())
        self.events = Emitter(
            log=self.store, run_id=self.run_id, listener=self.listener,
            before_write=None if self.cue is None else self.cue.before_event,
            written=None if self.cue is None else self.cue.wrote,
        )
        self.client = self.models.with_hooks(self)
        self.context = ContextManager(store=self.store, client=self.client, run_id=self.run_id,
                                      max_prompt_tokens=self.max_prompt_tokens,
                                      events=self.events)

    def emit(self, kind: EventKind, data: dict[str, Any], *, subtask_id: str | None = None) -> None:
        self.events.emit(kind, data, subtask_id=subtask_id)

    def tool_context(self, subtask_id: str | None) -> ToolContext:
        return ToolContext(workspace=self.workspace, run_id=self.run_id, subtask_id=subtask_id,
                           sandbox=self.sandbox, sandbox_network=self.sandbox_network)

    # the model-call hooks (`agentkit.models.CallHooks`) ---------------------------------------

    def serve(self, request: ModelRequest, model: str) -> ModelResponse | None:
        """The answer this run already recorded to `request` (resume), not recorded again."""
        if self.journal is None:
            return None
        found = self.journal.model(request.role, request.subtask_id, request.record())
        return None if found is None else _response(found)

    def check(self) -> float | None:
        if _RECOUNTING.get():
            raise _NotRecorded("a recounted tool's model call is not in the record")
        return self.meter.reserve_model_call()

    async def recorded(self, request: ModelRequest, model: str) -> ModelResponse | None:
        """In a replay, the original's answer to `request`, once the events before it are
        written; the model is not called. Raises `ReplayDivergence` when it has none."""
        if self.source is None or self.cue is None:
            return None
        stored = request.record()
        found = self.source.model(request.role, request.subtask_id, stored)
        assert found is not None  # the source is strict
        try:
            await self.cue.turn(found.seq)
        except BaseException:
            self.source.put_back_model(request.role, request.subtask_id, stored, found)
            raise
        return _response(found)

    def record(
        self, request: ModelRequest, model: str, response: ModelResponse | None, error: str | None
    ) -> None:
        self._record_model(request, model, response, error, reserved=True)

    def _record_model(
        self, request: ModelRequest, model: str, response: ModelResponse | None,
        error: str | None, *, reserved: bool,
    ) -> None:
        """Record a model call with its event, and count it."""
        tokens = 0 if response is None else response.prompt_tokens + response.completion_tokens
        data = {"role": request.role, "model": model, "tokens": tokens, "error": error}
        self.records.record_model_call(
            subtask_id=request.subtask_id, role=request.role, model=model,
            request=request.record(),
            response=None if response is None else response.assistant_message(),
            error=error,
            prompt_tokens=0 if response is None else response.prompt_tokens,
            completion_tokens=0 if response is None else response.completion_tokens,
            cost_usd=0.0 if response is None else response.cost_usd,
            latency_ms=0.0 if response is None else response.latency_s * 1000,
            event=("model_call", data, request.subtask_id),
        )
        self.events.tell("model_call", data, subtask_id=request.subtask_id)
        self.meter.add(response, reserved=reserved)

    # the one path of a tool call ---------------------------------------------------------------

    async def call_tool(self, subtask_id: str, call: ToolCall, tools: Toolset) -> ToolResult:
        """Serve `call` from the journal, or ask approval, check the budget, run and record it.

        A `tool_started` event precedes every real execution, so a call cut off by a crash is
        known to be in flight when the run resumes. In a replay the same steps run, and the
        original's result is taken where the tool would run.
        """
        tool = tools.get(call.name)
        served = self._served(subtask_id, call)
        if served is not None:
            if tool is not None and tool.needs_approval and not _was_in_doubt(call, served):
                # LangGraph hands decisions to a node's interrupts by position: a call decided
                # before asks again (answered at once), so the next call gets its own decision.
                self._denied(subtask_id, call, needs=True)
            if tool is not None and _calls_models(tool):  # its model calls count, as they did
                await self._recount(tool, call, subtask_id)
            return served
        result: ToolResult | None
        if tool is None:
            names = ", ".join(tools.names)
            result = ToolResult(status="invalid",
                                content=f"Unknown tool {call.name!r}; available: {names}")
        elif self._in_doubt(subtask_id, call) and not tool.idempotent:
            result = ToolResult(status="error", content=IN_DOUBT.format(name=call.name))
        elif self._denied(subtask_id, call, needs=tool.needs_approval):
            result = ToolResult(status="denied", content=DENIED.format(name=call.name))
        elif tool.ends_subtask is not None:  # ending a subtask is not work: never refused
            result = await self._execute(subtask_id, call, tool, None)
        else:
            left = self.meter.reserve_tool_call()
            try:
                result = await self._execute(subtask_id, call, tool, left)
            finally:
                self.meter.tools_in_flight -= 1
            if result is not None and result.status == "cut_off":  # the call ran; time is up
                self._record_tool(subtask_id, call, result)
                raise BudgetExceeded("time", result.content)
        if self.source is not None:  # a replay: the original's result, at its position
            return await self._replayed(subtask_id, call, result)
        assert result is not None  # only a replay leaves a tool unrun
        self._record_tool(subtask_id, call, result)
        return result

    async def _execute(
        self, subtask_id: str, call: ToolCall, tool: Tool, seconds_left: float | None
    ) -> ToolResult | None:
        """Run `tool` for `call`, stopped when the run's time budget runs out (`cut_off`); None
        in a replay, which runs only the tools that call models (their calls are served)."""
        self._started(subtask_id, call)
        if self.source is not None and not _calls_models(tool):
            return None
        with tracing.span(f"execute_tool {call.name}", {
                "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": call.name,
                "gen_ai.tool.call.id": call.id, "agentkit.subtask_id": subtask_id}) as span:
            try:
                async with asyncio.timeout(seconds_left):
                    result = await tool.run(call.arguments, self.tool_context(subtask_id))
            except TimeoutError:
                result = ToolResult(status="cut_off", content=(
                    f"{call.name!r} was cut off by the run's time budget "
                    f"({self.budget.max_seconds:g}s)"))
            tracing.set_attributes(span, {"agentkit.tool.status": result.status})
        return result

    async def _recount(self, tool: Tool, call: ToolCall, subtask_id: str) -> None:
        """Run a served thinking tool again for its token count only: its model calls are all
        served from the record (none is made; the tool's failure there is its own result)."""
        token = _RECOUNTING.set(True)
        try:
            await tool.run(call.arguments, self.tool_context(subtask_id))
        finally:
            _RECOUNTING.reset(token)

    async def _replayed(
        self, subtask_id: str, call: ToolCall, result: ToolResult | None
    ) -> ToolResult:
        """Record the original's result of `call` at its position; a `result` the replay
        computed itself (an unknown tool, a denial, a thinking tool) must equal it."""
        assert self.source is not None and self.cue is not None
        found = self.source.tool(subtask_id, call.id, call.name, call.arguments_json())
        if found is None:
            raise ReplayDivergence(
                f"replay diverged at tool call {call.name!r} in subtask {subtask_id!r}: the "
                "original ran it but never recorded its result")
        try:
            await self.cue.turn(self.source.tool_seq(found))
        except BaseException:
            self.source.put_back_tool(found)
            raise
        recorded = ToolResult(status=found.status, content=found.result,
                              latency_ms=found.latency_ms)
        if result is not None and (result.status, result.content) != (found.status, found.result):
            raise ReplayDivergence(
                f"replay diverged at tool call {call.name!r} in subtask {subtask_id!r}: it "
                f"gave {result.status!r} {result.content[:200]!r}, the original "
                f"{found.status!r} {found.result[:200]!r}")
        self._record_tool(subtask_id, call, recorded)
        return recorded

    def _served(self, subtask_id: str, call: ToolCall) -> ToolResult | None:
        found = self._journal_tool(subtask_id, call)
        if found is None:
            return None
        return ToolResult(status=found.status, content=found.result, latency_ms=found.latency_ms)

    def _journal_tool(self, subtask_id: str, call: ToolCall) -> ToolCallRow | None:
        if self.journal is None:
            return None
        return self.journal.tool(subtask_id, call.id, call.name, call.arguments_json())

    def _in_doubt(self, subtask_id: str, call: ToolCall) -> bool:
        return self.journal is not None and self.journal.in_doubt(
            subtask_id, call.id, call.name, call.arguments_json())

    def _denied(self, subtask_id: str, call: ToolCall, *, needs: bool) -> bool:
        if not needs or self.approve is None:
            return False
        request = {"subtask_id": subtask_id, **self._started_data(call)}
        return not self.approve(request)

    @staticmethod
    def _started_data(call: ToolCall) -> dict[str, Any]:
        return {"call_id": call.id, "name": call.name, "arguments": call.arguments_json()}

    def _started(self, subtask_id: str, call: ToolCall) -> None:
        self.emit("tool_started", self._started_data(call), subtask_id=subtask_id)

    def _record_tool(self, subtask_id: str, call: ToolCall, result: ToolResult) -> None:
        data = {"name": call.name, "status": result.status}
        self.records.record_tool_call(
            subtask_id=subtask_id, call_id=call.id, name=call.name,
            arguments=call.arguments_json(), result=result.content, status=result.status,
            latency_ms=result.latency_ms, event=("tool_call", data, subtask_id),
        )
        self.events.tell("tool_call", data, subtask_id=subtask_id)
        if call.name not in CONTROL_TOOLS:  # ending a subtask is not work
            self.meter.usage.tool_calls += 1


def _response(found: Any) -> ModelResponse:
    """A recorded answer (`agentkit.store.journal.RecordedCall`) as a model response."""
    calls = [
        ToolCall(name=c["function"]["name"], arguments=c["function"]["arguments"], id=c["id"])
        for c in found.response.get("tool_calls") or []
    ]
    return ModelResponse(
        model=found.model, text=found.response.get("content"), tool_calls=calls,
        prompt_tokens=found.prompt_tokens, completion_tokens=found.completion_tokens,
        cost_usd=found.cost_usd, latency_s=0.0,
    )
