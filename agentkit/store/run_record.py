"""`RunRecord`: one run's records behind one object, so callers stop passing `run_id` around.

`store.run(run_id)` makes one without touching the database; every method delegates to the
`RunStore` underneath with this run's id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentkit.schema import Plan, RunStatus, Subtask, Usage
from agentkit.store.protocol import RunStore
from agentkit.store.records import (
    EventRow,
    MaskedOutput,
    MemoryHit,
    ModelCallRow,
    NewEvent,
    PlanVersion,
    RunRow,
    SummaryRow,
    ToolCallRow,
)


@dataclass(kw_only=True, frozen=True)
class RunRecord:
    """The records of run `run_id` (its full id) in `store`."""

    store: RunStore
    run_id: str

    # the run

    def row(self) -> RunRow:
        return self.store.get_run(self.run_id)

    def finish(self, status: RunStatus, *, answer: str | None, error: str | None = None) -> None:
        self.store.finish_run(self.run_id, status, answer=answer, error=error)

    # plans and subtasks

    def add_plan(self, plan: Plan, *, trigger: str, reason: str) -> int:
        """Persist `plan` as the next version; return its version number."""
        return self.store.add_plan_version(self.run_id, plan, trigger=trigger, reason=reason)

    def plan(self, version: int | None = None) -> PlanVersion | None:
        """Plan `version`, or the latest; None when there is no such version."""
        return self.store.get_plan(self.run_id, version)

    def plans(self) -> list[PlanVersion]:
        return self.store.plan_versions(self.run_id)

    def save_subtasks(self, items: list[Subtask]) -> None:
        self.store.save_subtasks(self.run_id, items)

    def update_subtask(self, subtask: Subtask) -> None:
        self.store.update_subtask(self.run_id, subtask)

    def subtasks(self) -> list[Subtask]:
        return self.store.get_subtasks(self.run_id)

    def subtask(self, subtask_id: str) -> Subtask:
        return self.store.get_subtask(self.run_id, subtask_id)

    # the record

    def add_event(self, kind: str, data: dict[str, Any], *, subtask_id: str | None = None) -> int:
        """Append an event; return its sequence number."""
        return self.store.add_event(self.run_id, kind, data, subtask_id=subtask_id)

    def events(self) -> list[EventRow]:
        return self.store.get_events(self.run_id)

    def record_model_call(
        self, *, subtask_id: str | None, role: str, model: str, request: dict[str, Any],
        response: dict[str, Any] | None, error: str | None, prompt_tokens: int,
        completion_tokens: int, cost_usd: float, latency_ms: float, event: NewEvent | None = None,
    ) -> int:
        return self.store.record_model_call(
            self.run_id, subtask_id=subtask_id, role=role, model=model, request=request,
            response=response, error=error, prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens, cost_usd=cost_usd, latency_ms=latency_ms,
            event=event,
        )

    def model_calls(self) -> list[ModelCallRow]:
        return self.store.get_model_calls(self.run_id)

    def record_tool_call(
        self, *, subtask_id: str | None, call_id: str, name: str, arguments: str, result: str,
        status: str, latency_ms: float, event: NewEvent | None = None,
    ) -> int:
        return self.store.record_tool_call(
            self.run_id, subtask_id=subtask_id, call_id=call_id, name=name, arguments=arguments,
            result=result, status=status, latency_ms=latency_ms, event=event,
        )

    def tool_calls(self) -> list[ToolCallRow]:
        return self.store.get_tool_calls(self.run_id)

    def usage(self) -> Usage:
        return self.store.usage(self.run_id)

    # context memory

    def add_masked_output(
        self, *, subtask_id: str | None, call_id: str, name: str, content: str
    ) -> int:
        return self.store.add_masked_output(
            self.run_id, subtask_id=subtask_id, call_id=call_id, name=name, content=content
        )

    def masked_output(self, number: int) -> MaskedOutput | None:
        """The masked output numbered `number` in this run."""
        return self.store.get_masked_output(self.run_id, number)

    def add_summary(
        self, *, subtask_id: str | None, level: int, first_message: int, last_message: int,
        merged_ids: list[int], tokens_before: int, tokens_after: int, model: str, data: str,
        text: str,
    ) -> int:
        return self.store.add_summary(
            self.run_id, subtask_id=subtask_id, level=level, first_message=first_message,
            last_message=last_message, merged_ids=merged_ids, tokens_before=tokens_before,
            tokens_after=tokens_after, model=model, data=data, text=text,
        )

    def summaries(self, *, subtask_id: str | None = None) -> list[SummaryRow]:
        return self.store.get_summaries(self.run_id, subtask_id=subtask_id)

    def set_facts(
        self, items: list[tuple[str, str]], *, subtask_id: str | None, source: str
    ) -> None:
        self.store.set_facts(self.run_id, items, subtask_id=subtask_id, source=source)

    def facts(self) -> dict[str, str]:
        return self.store.get_facts(self.run_id)

    def search_memory(
        self, query: str, *, limit: int = 5, full_text: bool | None = None
    ) -> list[MemoryHit]:
        """Facts, summaries and masked outputs matching `query`, best first."""
        return self.store.search_memory(self.run_id, query, limit=limit, full_text=full_text)
