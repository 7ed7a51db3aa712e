"""`RunContext`: what graph nodes get from the runtime — the run's store, models, tools, budget
meter and events, and the one path of every model and tool call.

A run is in one mode for its whole life in a process, set when the context is built:

- `fresh`: nothing recorded yet; every call is made and recorded;
- `resume`: the run was cut off; calls it had already made are served from its journal and not
  recorded again, a call in flight at the cut is *in doubt*;
- `replay`: a new run re-enacted from another run's record (strict journal); what is served is
  recorded, so the new run's record mirrors the original's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from agentkit import tracing
from agentkit.context import ContextManager
from agentkit.errors import BudgetExceeded
from agentkit.events import Emitter, EventKind, EventListener
from agentkit.models import ModelClient, ModelRequest, ModelResponse, ToolCall
from agentkit.sandbox import SandboxMode
from agentkit.schema import Budget, Plan, Usage
from agentkit.store import RunRecord, RunStore
from agentkit.store.journal import Journal
from agentkit.tools import ToolContext, ToolResult, Toolset

RunMode = Literal["fresh", "resume", "replay"]
DENIED = "The user denied this call of {name!r}; do not call it again with the same arguments."
IN_DOUBT = (
    "This call of {name!r} was in flight when the run stopped; whether it took effect is unknown, "
    "so it was not repeated. Check the current state before calling it again."
)

# Asks a person whether a tool call may run (the graph pauses the run for the answer).
Approver = Callable[[dict[str, Any]], bool]

__all__ = ["DENIED", "IN_DOUBT", "Approver", "EventListener", "Meter", "RunContext", "RunMode"]


@dataclass(kw_only=True)
class Meter:
    """Spending so far, kept in memory (initialized from the records) and checked before calls."""

    budget: Budget
    usage: Usage
    started: float = field(default_factory=time.monotonic)
    # Model calls checked and under way: parallel calls (think_parallel's samples, parallel
    # subtasks) each count before any of them is recorded, so together they cannot overshoot.
    in_flight: int = 0

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
        u = self.usage
        pending = u.model_copy(update={"model_calls": u.model_calls + self.in_flight})
        elapsed = self.elapsed()
        if (hit := self.budget.exhausted(pending, elapsed)) is not None:
            raise BudgetExceeded(*hit)
        self.in_flight += 1
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
        journal: the record served in `resume` and `replay` mode.
        approve: asks for approval of a `needs_approval` tool call; None runs them unasked.
        initial_plan: a saved plan to start from instead of asking the strategist.
        max_prompt_tokens: a cap on executor prompts (see `ContextManager`).
        sandbox, sandbox_network: how tools confine the programs they start (`ToolContext`).
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
    approve: Approver | None = None
    listener: EventListener | None = None
    initial_plan: Plan | None = None
    initial_trigger: str = "plan_file"
    max_prompt_tokens: int | None = None
    sandbox: SandboxMode = "bwrap"
    sandbox_network: bool = False
    records: RunRecord = field(init=False)
    meter: Meter = field(init=False)
    events: Emitter = field(init=False)
    client: ModelClient = field(init=False)
    context: ContextManager = field(init=False)

    def __post_init__(self) -> None:
        if (self.mode == "fresh") != (self.journal is None):
            raise ValueError(f"a {self.mode!r} run needs a journal exactly when it is not fresh")
        self.records = self.store.run(self.run_id)
        self.meter = Meter(budget=self.budget, usage=self.records.usage())
        self.events = Emitter(log=self.store, run_id=self.run_id, listener=self.listener)
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
        """The recorded answer to `request`, when the journal has it; replay records it anew."""
        if self.journal is None:
            return None
        found = self.journal.model(request.role, request.subtask_id, request.record())
        if found is None:
            return None
        calls = [
            ToolCall(name=c["function"]["name"], arguments=c["function"]["arguments"], id=c["id"])
            for c in found.response.get("tool_calls") or []
        ]
        served = ModelResponse(
            model=found.model, text=found.response.get("content"), tool_calls=calls,
            prompt_tokens=found.prompt_tokens, completion_tokens=found.completion_tokens,
            cost_usd=found.cost_usd, latency_s=0.0,
        )
        if self.mode == "replay":
            self._record_model(request, model, served, None, reserved=False)
        return served

    def check(self) -> float | None:
        return self.meter.reserve_model_call()

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
        known to be in flight when the run resumes.
        """
        tool = tools.get(call.name)
        served = self._served(subtask_id, call)
        if served is not None:
            if self.mode == "replay":  # mirror the original: started (if it ran), then recorded
                if tool is not None and served.status != "denied":
                    self._started(subtask_id, call)
                self._record_tool(subtask_id, call, served)
            return served
        if tool is None:
            names = ", ".join(tools.names)
            result = ToolResult(status="invalid",
                                content=f"Unknown tool {call.name!r}; available: {names}")
        elif self._in_doubt(subtask_id, call) and not tool.idempotent:
            result = ToolResult(status="error", content=IN_DOUBT.format(name=call.name))
        elif self._denied(subtask_id, call, needs=tool.needs_approval):
            result = ToolResult(status="denied", content=DENIED.format(name=call.name))
        else:
            if tool.ends_subtask is None:  # ending a subtask is not work: never refused
                self.meter.check()
            self._started(subtask_id, call)
            with tracing.span(f"execute_tool {call.name}", {
                    "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": call.name,
                    "gen_ai.tool.call.id": call.id, "agentkit.subtask_id": subtask_id}) as span:
                result = await tool.run(call.arguments, self.tool_context(subtask_id))
                tracing.set_attributes(span, {"agentkit.tool.status": result.status})
        self._record_tool(subtask_id, call, result)
        return result

    def _served(self, subtask_id: str, call: ToolCall) -> ToolResult | None:
        if self.journal is None:
            return None
        found = self.journal.tool(subtask_id, call.id, call.name, call.arguments_json())
        if found is None:
            return None
        return ToolResult(status=found.status, content=found.result, latency_ms=found.latency_ms)

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
        self.meter.usage.tool_calls += 1
