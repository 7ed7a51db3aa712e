"""The typed rows the store returns: one frozen value per record, read back from the database.

They are read-side values (the store writes from keyword arguments), so they are keyword-only
dataclasses; the `Plan` and `Subtask` they carry stay the pydantic models they were written as.
`to_dict` turns a row back into the plain dict `runs show --json` prints.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from agentkit.schema import Plan, RunStatus

if TYPE_CHECKING:
    from agentkit.tools import ToolStatus

MemoryKind = Literal["fact", "summary", "masked"]


@dataclass(kw_only=True, frozen=True)
class RunRow:
    """A run: its goal, settings and how it ended (fields in the order of the `runs` table)."""

    id: str
    goal: str
    status: RunStatus
    model: str
    workspace: str
    settings: dict[str, Any]
    answer: str | None
    error: str | None
    parent_run_id: str | None
    created_at: float
    updated_at: float


@dataclass(kw_only=True, frozen=True)
class PlanVersion:
    """One persisted version of a run's plan, with what triggered it and why."""

    run_id: str
    version: int
    plan: Plan
    trigger: str
    reason: str
    created_at: float


@dataclass(kw_only=True, frozen=True)
class EventRow:
    """One entry of a run's append-only event log; `seq` numbers a run's events from 1."""

    seq: int
    kind: str
    subtask_id: str | None
    data: dict[str, Any]


@dataclass(kw_only=True, frozen=True)
class ModelCallRow:
    """A model call with its full request (rebuilt from the stored delta) and response."""

    id: int
    run_id: str
    subtask_id: str | None
    role: str
    model: str
    request: dict[str, Any]
    response: dict[str, Any] | None
    error: str | None
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_ms: float
    created_at: float


@dataclass(kw_only=True, frozen=True)
class ToolCallRow:
    """A finished tool call: its arguments as sent (JSON text) and its result."""

    id: int
    run_id: str
    subtask_id: str | None
    call_id: str
    name: str
    arguments: str
    result: str
    status: ToolStatus
    latency_ms: float
    created_at: float


@dataclass(kw_only=True, frozen=True)
class SummaryRow:
    """A persisted summary: the messages it covers, the prompt size before and after, the model.

    `number` numbers a run's summaries (what prompts show; `merged_ids` are such numbers); `data`
    is the summary as JSON (a `agentkit.context.Summary`), `text` as shown in prompts.
    """

    id: int
    run_id: str
    number: int
    subtask_id: str | None
    level: int
    first_message: int
    last_message: int
    merged_ids: list[int]
    tokens_before: int
    tokens_after: int
    model: str
    data: str
    text: str
    created_at: float


@dataclass(kw_only=True, frozen=True)
class MaskedOutput:
    """A tool output that compaction took out of the prompt; `recall` brings it back by its
    `number` within the run (the `#m<number>` of its stub)."""

    id: int
    run_id: str
    number: int
    subtask_id: str | None
    call_id: str
    name: str
    content: str
    created_at: float


@dataclass(kw_only=True, frozen=True)
class FactRow:
    """A fact of a run: its latest value, verbatim, and where it came from.

    `seq` orders a run's facts by when their value was last learned (higher is newer); `doubt`
    says why the value may be out of date (its subject came up again without a value that could
    be confirmed), else None — a doubted value is never shown as current.
    """

    key: str
    value: str
    subtask_id: str | None
    source: str
    seq: int
    doubt: str | None


@dataclass(kw_only=True, frozen=True)
class MemoryHit:
    """A match of a memory search: a fact (ref is its key), a summary or a masked output (ref is
    its number within the run); `at` is when it was stored (a fact: when its value last changed)."""

    kind: MemoryKind
    ref: str
    text: str
    at: float


@dataclass(kw_only=True, frozen=True)
class RunAgent:
    """The agent a run was made with: its resolved agent file and a fingerprint of each tool.

    Attributes:
        spec: the agent file's content with paths made absolute; secrets appear only as the
            `${VAR}` names they were written with, never as their values.
        tools: per tool name, `{"source": ..., "digest": ...}` (the digest of its schema).
    """

    run_id: str
    spec: dict[str, Any]
    tools: dict[str, dict[str, str]]
    updated_at: float


# An event to append in the same transaction as another record: (kind, data, subtask_id).
NewEvent = tuple[str, dict[str, Any], str | None]

Row = RunRow | PlanVersion | EventRow | ModelCallRow | ToolCallRow | SummaryRow | MaskedOutput


def to_dict(row: Row | MemoryHit) -> dict[str, Any]:
    """The row as a plain dict of JSON values, in field order (a plan as its JSON dump)."""
    out = {f.name: getattr(row, f.name) for f in dataclasses.fields(row)}
    if isinstance(row, PlanVersion):
        out["plan"] = row.plan.model_dump(mode="json")
    return out


BatchState = Literal["pending", "claimed", "done"]


@dataclass(kw_only=True, frozen=True)
class NewTask:
    """A try (one repetition of one task) to add to a batch (`agentkit batch`)."""

    key: str  # "<task id>#<repetition>"
    task_id: str
    repetition: int
    position: int  # the task's place in the tasks file
    goal: str
    check_command: str | None
    workspace: str


@dataclass(kw_only=True, frozen=True)
class BatchTaskRow(NewTask):
    """A try of a batch as recorded, and the run that carries it."""

    batch: str
    state: BatchState
    run_id: str | None
    worker: str | None
    claims: int  # how often a worker took it up: more than 1 after a worker died
    outcome: RunStatus | None
    passed: bool | None
    check_output: str | None
    error: str | None
    updated_at: float
