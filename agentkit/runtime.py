"""`RunContext`: what graph nodes get from the runtime — store, models, tools, budget meter."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentkit.context import ContextManager
from agentkit.errors import BudgetExceeded
from agentkit.models import ModelClient, ModelRequest, ModelResponse, ToolCall
from agentkit.schema import Budget, Usage
from agentkit.store import RunStore
from agentkit.store.journal import Journal, tool_key
from agentkit.store.records import ToolCallRow
from agentkit.tools import ToolContext, ToolResult, Toolset

DENIED = "The user denied this call of {name!r}; do not call it again with the same arguments."
IN_DOUBT = (
    "This call of {name!r} was in flight when the run stopped; whether it took effect is unknown, "
    "so it was not repeated. Check the current state before calling it again."
)

Approver = Callable[[dict[str, Any]], bool]
EventListener = Callable[[str, dict[str, Any]], None]


@dataclass(kw_only=True)
class Meter:
    """Spending so far, kept in memory (initialized from the records) and checked before calls."""

    budget: Budget
    usage: Usage
    started: float = field(default_factory=time.monotonic)

    def elapsed(self) -> float:
        """Seconds since the run (or its resumption) started."""
        return time.monotonic() - self.started

    def exhausted(self) -> tuple[str, str] | None:
        """The first spent budget as (kind, message), or None."""
        b, u = self.budget, self.usage
        checks = [
            ("tokens", b.max_tokens, u.total_tokens),
            ("cost", b.max_cost_usd, u.cost_usd),
            ("model_calls", b.max_model_calls, u.model_calls),
            ("tool_calls", b.max_tool_calls, u.tool_calls),
            ("time", b.max_seconds, self.elapsed()),
        ]
        for kind, limit, spent in checks:
            if limit is not None and spent >= limit:
                return kind, f"{kind} budget spent: {spent:.6g} of {limit:.6g}"
        return None

    def check(self) -> None:
        if (hit := self.exhausted()) is not None:
            raise BudgetExceeded(*hit)


@dataclass(kw_only=True)
class RunContext:
    """Per-run dependencies of the graph nodes (LangGraph runtime context)."""

    run_id: str
    goal: str
    store: RunStore
    client: ModelClient
    tools: Toolset
    workspace: Path
    budget: Budget
    meter: Meter
    listener: EventListener | None = None
    # Set when the run starts from a saved plan instead of asking the strategist.
    initial_plan: Any = None
    initial_trigger: str = "plan_file"
    # Fits every executor prompt to its budget; one with the defaults is made when not given.
    context: ContextManager | None = None

    # Recorded results to serve instead of redoing work (resume: lenient; replay: strict).
    journal: Journal | None = None
    _unrecorded: set[str] = field(default_factory=set)

    def serve_model(self, request: ModelRequest, model: str) -> ModelResponse | None:
        """The recorded answer to `request`, when the journal has it (see `ModelClient`)."""
        if self.journal is None:
            return None
        found = self.journal.model(request.role, request.subtask_id, request.record())
        if found is None:
            return None
        calls = [
            ToolCall(name=c["function"]["name"], arguments=c["function"]["arguments"], id=c["id"])
            for c in found.response.get("tool_calls") or []
        ]
        return ModelResponse(
            model=found.model, text=found.response.get("content"), tool_calls=calls,
            prompt_tokens=found.prompt_tokens, completion_tokens=found.completion_tokens,
            cost_usd=found.cost_usd, latency_s=0.0,
        )

    async def through_journal(
        self, subtask_id: str, call: ToolCall, run: Callable[[], Awaitable[ToolResult]],
        *, approve: Approver | None = None,
    ) -> ToolResult:
        """Run a tool call — unless the record has its result, it is in doubt, or it is denied.

        A `tool_started` event precedes every real execution, so a call cut off by a crash is
        known to be in flight when the run resumes.
        """
        arguments = call.arguments_json()
        started = {"call_id": call.id, "name": call.name, "arguments": arguments}
        served = None if self.journal is None else self.journal.tool(
            subtask_id, call.id, call.name, arguments)
        if isinstance(served, ToolCallRow):
            if self.client.record_served:  # replay: a new run mirrors the original's events
                self.event("tool_started", started, subtask_id=subtask_id)
            else:  # resume: the row is already recorded
                self._unrecorded.add(tool_key(subtask_id, call.id, call.name, arguments))
            return ToolResult(status=served.status, content=served.result,
                              latency_ms=served.latency_ms)
        tool = self.tools.get(call.name)
        if served is not None and not (tool is not None and tool.idempotent):
            return ToolResult(status="error", content=IN_DOUBT.format(name=call.name))
        if tool is not None and tool.needs_approval and approve is not None:
            request = {"subtask_id": subtask_id, **started}
            if not approve(request):
                return ToolResult(status="denied", content=DENIED.format(name=call.name))
        self.event("tool_started", started, subtask_id=subtask_id)
        return await run()

    def __post_init__(self) -> None:
        if self.context is None:
            self.context = ContextManager(store=self.store, client=self.client, run_id=self.run_id)

    def event(self, kind: str, data: dict[str, Any], *, subtask_id: str | None = None) -> None:
        self.store.add_event(self.run_id, kind, data, subtask_id=subtask_id)
        self._tell(kind, data, subtask_id)

    def _tell(self, kind: str, data: dict[str, Any], subtask_id: str | None) -> None:
        if self.listener is not None:
            self.listener(kind, {**data, "subtask_id": subtask_id})

    def tool_context(self, subtask_id: str | None) -> ToolContext:
        return ToolContext(workspace=self.workspace, run_id=self.run_id, subtask_id=subtask_id)

    def record_model_call(
        self, request: ModelRequest, model: str, response: ModelResponse | None, error: str | None
    ) -> None:
        prompt = response.prompt_tokens if response else 0
        completion = response.completion_tokens if response else 0
        cost = response.cost_usd if response else 0.0
        data = {"role": request.role, "model": model, "tokens": prompt + completion, "error": error}
        self.store.record_model_call(
            self.run_id,
            subtask_id=request.subtask_id,
            role=request.role,
            model=model,
            request=request.record(),
            response=None if response is None else response.assistant_message(),
            error=error,
            prompt_tokens=prompt,
            completion_tokens=completion,
            cost_usd=cost,
            latency_ms=(response.latency_s * 1000) if response else 0.0,
            event=("model_call", data, request.subtask_id),
        )
        self._tell("model_call", data, request.subtask_id)
        u = self.meter.usage
        u.prompt_tokens += prompt
        u.completion_tokens += completion
        u.cost_usd += cost
        u.model_calls += 1

    def record_tool_call(self, subtask_id: str, call: ToolCall, result: ToolResult) -> None:
        key = tool_key(subtask_id, call.id, call.name, call.arguments_json())
        if key in self._unrecorded:
            self._unrecorded.discard(key)
            return
        data = {"name": call.name, "status": result.status}
        self.store.record_tool_call(
            self.run_id, subtask_id=subtask_id, call_id=call.id, name=call.name,
            arguments=call.arguments_json(), result=result.content, status=result.status,
            latency_ms=result.latency_ms,
            event=("tool_call", data, subtask_id),
        )
        self._tell("tool_call", data, subtask_id)
        self.meter.usage.tool_calls += 1
