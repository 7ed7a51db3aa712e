"""`RunStore`: what the graph, the agent and the context manager need from storage.

Modelled on LangGraph's `BaseCheckpointSaver`: a small set of reads and writes keyed by run, each
with a typed return value (the rows of `agentkit.store.records`). `agentkit.store.Store` (SQLite
or PostgreSQL through SQLAlchemy) is the implementation; mypy checks that it satisfies this
protocol wherever a `Store` is handed to code typed against `RunStore`. The event log is
append-only; a record written with an `event` appends that event in the same transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from agentkit.schema import Plan, RunStatus, Subtask, Usage
from agentkit.store.records import (
    EventRow,
    FactRow,
    MaskedOutput,
    MemoryHit,
    ModelCallRow,
    NewEvent,
    PlanVersion,
    RunAgent,
    RunRow,
    SummaryRow,
    ToolCallRow,
)

if TYPE_CHECKING:
    from agentkit.store.run_record import RunRecord


@runtime_checkable
class RunStore(Protocol):
    """Reads and writes of run records; thread-safe, one instance serving many runs."""

    @property
    def url(self) -> str:
        """The database URL (the checkpointer writes to the same database)."""
        ...

    def close(self) -> None: ...

    # runs

    def create_run(
        self, *, goal: str, model: str, workspace: str, settings: dict[str, Any],
        parent_run_id: str | None = None, run_id: str | None = None,
    ) -> str: ...

    def finish_run(
        self, run_id: str, status: RunStatus, *, answer: str | None, error: str | None = None
    ) -> None: ...

    def get_run(self, run_id: str) -> RunRow: ...

    def list_runs(self, limit: int = 50) -> list[RunRow]: ...

    def set_agent(
        self, run_id: str, spec: dict[str, Any], tools: dict[str, dict[str, str]]
    ) -> None: ...

    def get_agent(self, run_id: str) -> RunAgent | None: ...

    def run(self, run_id: str) -> RunRecord: ...

    # plans and subtasks

    def add_plan_version(self, run_id: str, plan: Plan, *, trigger: str, reason: str) -> int: ...

    def get_plan(self, run_id: str, version: int | None = None) -> PlanVersion | None: ...

    def plan_versions(self, run_id: str) -> list[PlanVersion]: ...

    def save_subtasks(self, run_id: str, items: list[Subtask]) -> None: ...

    def update_subtask(self, run_id: str, subtask: Subtask) -> None: ...

    def get_subtasks(self, run_id: str) -> list[Subtask]: ...

    def get_subtask(self, run_id: str, subtask_id: str) -> Subtask: ...

    # the record: events, model calls, tool calls

    def add_event(
        self, run_id: str, kind: str, data: dict[str, Any], *, subtask_id: str | None = None
    ) -> int: ...

    def get_events(self, run_id: str) -> list[EventRow]: ...

    def record_model_call(
        self, run_id: str, *, subtask_id: str | None, role: str, model: str,
        request: dict[str, Any], response: dict[str, Any] | None, error: str | None,
        prompt_tokens: int, completion_tokens: int, cost_usd: float, latency_ms: float,
        event: NewEvent | None = None,
    ) -> int: ...

    def get_model_calls(self, run_id: str) -> list[ModelCallRow]: ...

    def record_tool_call(
        self, run_id: str, *, subtask_id: str | None, call_id: str, name: str,
        arguments: str, result: str, status: str, latency_ms: float,
        event: NewEvent | None = None,
    ) -> int: ...

    def get_tool_calls(self, run_id: str) -> list[ToolCallRow]: ...

    def usage(self, run_id: str) -> Usage: ...

    # context memory

    def add_masked_output(
        self, run_id: str, *, subtask_id: str | None, call_id: str, name: str, content: str
    ) -> int: ...

    def get_masked_output(self, run_id: str, number: int) -> MaskedOutput | None: ...

    def add_summary(
        self, run_id: str, *, subtask_id: str | None, level: int, first_message: int,
        last_message: int, merged_ids: list[int], tokens_before: int, tokens_after: int,
        model: str, data: str, text: str,
    ) -> int: ...

    def get_summaries(
        self, run_id: str, *, subtask_id: str | None = None
    ) -> list[SummaryRow]: ...

    def set_facts(
        self, run_id: str, items: list[tuple[str, str]], *, subtask_id: str | None, source: str
    ) -> None: ...

    def doubt_facts(self, run_id: str, doubts: dict[str, str]) -> None: ...

    def get_fact_rows(self, run_id: str) -> list[FactRow]: ...

    def get_facts(self, run_id: str) -> dict[str, str]: ...

    def search_memory(
        self, run_id: str, query: str, *, limit: int = 5, full_text: bool | None = None
    ) -> list[MemoryHit]: ...
