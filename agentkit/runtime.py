"""`RunContext`: what graph nodes get from the runtime — store, models, tools, budget meter."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentkit.context import ContextManager
from agentkit.errors import BudgetExceeded
from agentkit.models import ModelClient, ModelRequest, ModelResponse, ToolCall
from agentkit.schema import Budget, Usage
from agentkit.store import Store
from agentkit.tools import ToolContext, ToolResult, Toolset

EventListener = Callable[[str, dict[str, Any]], None]


@dataclass(kw_only=True)
class Meter:
    """Spending so far, kept in memory (initialized from the records) and checked before calls."""

    budget: Budget
    usage: Usage
    started: float = field(default_factory=time.monotonic)

    def exhausted(self) -> tuple[str, str] | None:
        """The first spent budget as (kind, message), or None."""
        b, u = self.budget, self.usage
        checks = [
            ("tokens", b.max_tokens, u.total_tokens),
            ("cost", b.max_cost_usd, u.cost_usd),
            ("model_calls", b.max_model_calls, u.model_calls),
            ("tool_calls", b.max_tool_calls, u.tool_calls),
            ("time", b.max_seconds, time.monotonic() - self.started),
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
    store: Store
    client: ModelClient
    tools: Toolset
    workspace: Path
    budget: Budget
    meter: Meter
    listener: EventListener | None = None
    # Set when the run starts from a saved plan instead of asking the strategist.
    initial_plan: Any = None
    # Fits every executor prompt to its budget; one with the defaults is made when not given.
    context: ContextManager | None = None

    def __post_init__(self) -> None:
        if self.context is None:
            self.context = ContextManager(store=self.store, client=self.client, run_id=self.run_id)

    def event(self, kind: str, data: dict[str, Any], *, subtask_id: str | None = None) -> None:
        self.store.add_event(self.run_id, kind, data, subtask_id=subtask_id)
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
        self.store.record_model_call(
            self.run_id,
            subtask_id=request.subtask_id,
            role=request.role,
            model=model,
            request={
                "messages": request.messages, "tools": request.tools,
                "output_schema": request.output_schema, "temperature": request.temperature,
                "max_tokens": request.max_tokens, "reasoning_effort": request.reasoning_effort,
            },
            response=None if response is None else response.assistant_message(),
            error=error,
            prompt_tokens=prompt,
            completion_tokens=completion,
            cost_usd=cost,
            latency_ms=(response.latency_s * 1000) if response else 0.0,
        )
        u = self.meter.usage
        u.prompt_tokens += prompt
        u.completion_tokens += completion
        u.cost_usd += cost
        u.model_calls += 1
        self.event(
            "model_call",
            {"role": request.role, "model": model, "tokens": prompt + completion, "error": error},
            subtask_id=request.subtask_id,
        )

    def record_tool_call(self, subtask_id: str, call: ToolCall, result: ToolResult) -> None:
        self.store.record_tool_call(
            self.run_id, subtask_id=subtask_id, call_id=call.id, name=call.name,
            arguments=call.arguments_json(), result=result.content, status=result.status,
            latency_ms=result.latency_ms,
        )
        self.meter.usage.tool_calls += 1
        self.event(
            "tool_call", {"name": call.name, "status": result.status}, subtask_id=subtask_id
        )
