"""The persisted data of a run: plans, subtasks, effort, budgets, usage and results.

These are Pydantic models because they are stored, exported to YAML and sent to models as JSON
Schema for structured output. Strings and lists carry bounds so a small model constrained by a
grammar cannot repeat itself until it hits its token limit.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Difficulty = Literal["trivial", "easy", "medium", "hard"]
SubtaskStatus = Literal["pending", "running", "done", "failed", "skipped"]
RunStatus = Literal[
    "running", "completed", "failed", "budget_exhausted", "interrupted", "awaiting_approval"
]
Role = Literal[
    "strategist", "decomposer", "executor", "monitor", "summarizer", "judge", "thinker", "finalizer"
]

ShortText = Annotated[str, Field(max_length=200)]

# The executor's control tools: they end a subtask and are not work, so `Usage.tool_calls` (and
# `Budget.max_tool_calls`) leaves them out.
CONTROL_TOOLS = ("finish", "fail", "report_contradiction")
# The most steps a plan holds at once; finished steps are archived and leave it (a rolling window).
MAX_PLAN_STEPS = 12


# The fields of a piece of planned work: a plan step, or a sub-step the decomposer writes.
StepId = Annotated[str, Field(min_length=1, max_length=24, pattern=r"^[A-Za-z0-9_.-]+$")]
StepTitle = Annotated[str, Field(min_length=1, max_length=100)]
Instructions = Annotated[str, Field(max_length=600)]
Criteria = Annotated[str, Field(max_length=300)]
StepDeps = Annotated[list[Annotated[str, Field(max_length=24)]], Field(max_length=6)]
ExpectedCalls = Annotated[int, Field(ge=1, le=200)]


class PlanStep(BaseModel):
    """One step of a plan, with what counts as done."""

    model_config = ConfigDict(extra="forbid")

    id: StepId
    title: StepTitle
    instructions: Instructions = ""
    success_criteria: Criteria = ""
    depends_on: StepDeps = []
    difficulty: Difficulty = "medium"
    # About how many tool calls the step takes; its step limit and budget are sized from it.
    expected_calls: ExpectedCalls | None = None
    # A shell command run in the workspace (in the sandbox) when the step's last subtask calls
    # finish: exit code 0 accepts the result, anything else sends it back with the output.
    check: Annotated[str | None, Field(max_length=300)] = None


class Plan(BaseModel):
    """A strategy and the ordered steps that carry it out."""

    model_config = ConfigDict(extra="forbid")

    strategy: Annotated[str, Field(min_length=1, max_length=600)]
    steps: Annotated[list[PlanStep], Field(min_length=1, max_length=MAX_PLAN_STEPS)]
    assumptions: Annotated[list[ShortText], Field(max_length=6)] = []
    risks: Annotated[list[ShortText], Field(max_length=6)] = []
    # "tried: …, failed because …" — written by the run, so a failed approach is not retried.
    failed_approaches: Annotated[
        list[Annotated[str, Field(max_length=400)]], Field(max_length=20)
    ] = []
    # The goal needs more steps than these: when they are done, the strategist extends the plan
    # (a revision with the trigger `extend`); finished steps are archived, not kept here.
    continues: bool = False

    def render(self, *, details: bool = False) -> str:
        """The plan as text: its strategy, then a line per step.

        Args:
            details: also each step's dependencies and difficulty, and the failed approaches.
        """
        lines = [f"Strategy: {self.strategy}"]
        for step in self.steps:
            line = f"{step.id}. {step.title}"
            if details:
                deps = f" (after {', '.join(step.depends_on)})" if step.depends_on else ""
                line += f"{deps} [{step.difficulty}]"
            lines.append(line)
        if details:
            lines += [f"Tried before: {note}" for note in self.failed_approaches]
            if self.continues:
                lines.append("Continues: the strategist adds steps when these are done")
        return "\n".join(lines)

    @model_validator(mode="after")
    def _check_step_graph(self) -> Plan:
        seen: set[str] = set()
        for number, step in enumerate(self.steps, start=1):
            if step.id in seen:
                raise ValueError(
                    f"step {number} reuses the id {step.id!r}; give every step a unique id"
                )
            for dep in step.depends_on:
                if dep not in seen:
                    known = ", ".join(repr(s) for s in seen) or "none"
                    raise ValueError(
                        f"step {number} ({step.id!r}) depends on {dep!r}, which is not an "
                        f"earlier step; earlier steps: {known}"
                    )
            seen.add(step.id)
        return self


class Effort(BaseModel):
    """How much to spend on one subtask: which model, how long, which tools."""

    model: str | None = None
    reasoning_effort: Literal["low", "medium", "high"] | None = None
    max_steps: int = Field(default=8, ge=1)
    budget_tokens: int = Field(default=20_000, ge=1)
    thinking_tools: bool = False


class Subtask(BaseModel):
    """A piece of a plan step sized to one bounded inference effort."""

    id: str
    step_id: str
    plan_version: int
    title: str
    instructions: str = ""
    success_criteria: str = ""
    depends_on: list[str] = []
    estimated_tokens: int = 0
    effort: Effort = Effort()
    status: SubtaskStatus = "pending"
    result: str | None = None
    attempts: int = 0
    # A fact the executor found that contradicts an assumption of the plan (triggers a revision).
    contradiction: str | None = None
    # The ledger text the current attempt started with (kept so a resumed attempt repeats it).
    opening_ledger: str | None = None
    # A step too big for one effort is split into parts `part` of `parts`, chained in order;
    # very small adjacent steps are merged into one subtask that also covers `merged_steps`.
    part: int = Field(default=1, ge=1)
    parts: int = Field(default=1, ge=1)
    merged_steps: list[str] = []
    # Model turns the last attempt took; an attempt that used them all hit its step limit.
    turns: int = 0

    @property
    def steps(self) -> list[str]:
        """The plan steps this subtask carries out (more than one when merged)."""
        return [self.step_id, *self.merged_steps]

    @property
    def completes_step(self) -> bool:
        """Whether finishing this subtask finishes its steps (it is their last part)."""
        return self.part == self.parts


class Budget(BaseModel):
    """Limits of a whole run. `None` means unlimited."""

    max_tokens: int | None = Field(default=200_000, ge=1)
    max_cost_usd: float | None = Field(default=None, ge=0)
    max_model_calls: int | None = Field(default=200, ge=1)
    # Work tool calls: the control tools (`CONTROL_TOOLS`) are not counted.
    max_tool_calls: int | None = Field(default=500, ge=1)
    max_seconds: float | None = Field(default=None, gt=0)
    # Per-subtask token budgets. `subtask_tokens` is the budget of a medium subtask; calibration
    # scales it by difficulty within [min_subtask_tokens, max_subtask_tokens] — the guiding size
    # is one bounded inference effort, roughly 10k-100k tokens.
    subtask_tokens: int = Field(default=20_000, ge=100)
    min_subtask_tokens: int = Field(default=10_000, ge=100)
    max_subtask_tokens: int = Field(default=100_000, ge=100)
    # A subtask estimated over its budget is split: into the decomposer model's sub-steps, or
    # (its answer unusable) in two, recursively up to this depth; 0 never splits.
    max_split_depth: int = Field(default=3, ge=0, le=6)
    # Adjacent subtasks of a chain whose own work at their step limit (the estimate without the
    # context every turn re-reads) is under this many tokens are merged (0: never). The default
    # merges trivial one-call steps (1.4k-1.5k measured, bench_decompose) and no easy step
    # (4.1k and more).
    merge_below_tokens: int = Field(default=3_000, ge=0)
    max_revisions: int = Field(default=3, ge=0)
    stall_limit: int = Field(default=3, ge=1)

    @model_validator(mode="after")
    def _check_subtask_bounds(self) -> Budget:
        if self.min_subtask_tokens > self.max_subtask_tokens:
            raise ValueError(
                f"min_subtask_tokens ({self.min_subtask_tokens!r}) is above max_subtask_tokens "
                f"({self.max_subtask_tokens!r}); make the minimum the smaller one"
            )
        return self

    def exhausted(self, usage: Usage, elapsed: float) -> tuple[str, str] | None:
        """The first spent limit as (kind, message), or None; `elapsed` is in seconds."""
        checks = [
            ("tokens", self.max_tokens, usage.total_tokens),
            ("cost", self.max_cost_usd, usage.cost_usd),
            ("model_calls", self.max_model_calls, usage.model_calls),
            ("tool_calls", self.max_tool_calls, usage.tool_calls),
            ("time", self.max_seconds, elapsed),
        ]
        for kind, limit, spent in checks:
            if limit is not None and spent >= limit:
                return kind, f"{kind} budget spent: {spent:.6g} of {limit:.6g}"
        return None

    def tokens_left(self, usage: Usage) -> int | None:
        """Tokens still to spend, or None when unlimited."""
        return None if self.max_tokens is None else self.max_tokens - usage.total_tokens

    def left_note(self, usage: Usage, elapsed: float) -> str:
        """What is left of each limit, for the strategist's prompt: "1200 tokens, 8 model calls"."""
        parts = []
        if self.max_tokens:
            parts.append(f"{self.max_tokens - usage.total_tokens} tokens")
        if self.max_model_calls:
            parts.append(f"{self.max_model_calls - usage.model_calls} model calls")
        if self.max_cost_usd:
            parts.append(f"${self.max_cost_usd - usage.cost_usd:.4f}")
        if self.max_tool_calls:
            parts.append(f"{self.max_tool_calls - usage.tool_calls} tool calls")
        if self.max_seconds:
            parts.append(f"{self.max_seconds - elapsed:.0f} seconds")
        return ", ".join(parts) or "unlimited"


class Usage(BaseModel):
    """What a run (or a part of it) spent."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    model_calls: int = 0
    # Work tool calls, without the control tools (`CONTROL_TOOLS`).
    tool_calls: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class RunResult(BaseModel):
    """What `Agent.run` returns."""

    run_id: str
    status: RunStatus
    answer: str | None
    plan: Plan | None
    plan_version: int
    subtasks: list[Subtask]
    usage: Usage
    error: str | None = None
    # Tool calls waiting for a person's decision (status `awaiting_approval`); see Agent.approve.
    approvals: list[dict[str, Any]] = []
