"""Calibration: difficulty → effort (model tier, reasoning effort, step limit, budget, thinking).

Difficulty comes from the planner's judgement (`PlanStep.difficulty`) and from history: each
earlier failure of the same step moves it one rung up the ladder. Easy work stays cheap — the
`fast` tier, few steps, a small budget, no thinking tools; a failed step comes back on the
`strong` tier whatever its rung, since the tier it failed on was not enough.

The effort reaches every call of the subtask (`ModelClient.at_effort`): the executor's and its
thinking tools' calls run on its tier, with its reasoning effort wherever the model takes one
(LiteLLM's `supports_reasoning`), within its step limit. `escalations` lists the retries that
ran at more effort, for `agentkit runs show`.

Tiers are names, not models: `Agent(aliases={"fast": ..., "strong": ...})` maps them to LiteLLM
model strings. A tier without an alias runs on the agent's default model; `None` means the
default model on purpose (medium work).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from agentkit.schema import Budget, Difficulty, Effort, Subtask

LADDER: tuple[Difficulty, ...] = ("trivial", "easy", "medium", "hard")


@dataclass(kw_only=True, frozen=True)
class Level:
    """The effort of one rung of the ladder; `budget_scale` multiplies `Budget.subtask_tokens`."""

    tier: str | None
    reasoning_effort: Literal["low", "medium", "high"] | None
    max_steps: int
    budget_scale: float
    thinking_tools: bool


LEVELS: dict[Difficulty, Level] = {
    "trivial": Level(tier="fast", reasoning_effort=None, max_steps=3, budget_scale=0.5,
                     thinking_tools=False),
    "easy": Level(tier="fast", reasoning_effort="low", max_steps=5, budget_scale=0.75,
                  thinking_tools=False),
    "medium": Level(tier=None, reasoning_effort="medium", max_steps=8, budget_scale=1.0,
                    thinking_tools=True),
    "hard": Level(tier="strong", reasoning_effort="high", max_steps=12, budget_scale=2.0,
                  thinking_tools=True),
}
ESCALATED_TIER = "strong"


def escalate(difficulty: Difficulty, failures: int) -> Difficulty:
    """Each earlier failure moves a subtask one rung up the difficulty ladder."""
    return LADDER[min(LADDER.index(difficulty) + failures, len(LADDER) - 1)]


def budget_tokens(level: Difficulty, budget: Budget) -> int:
    """The token budget of one subtask at `level`, within the budget's bounds.

    An explicit `subtask_tokens` outside the bounds widens them rather than being overridden.
    """
    low = min(budget.min_subtask_tokens, budget.subtask_tokens)
    high = max(budget.max_subtask_tokens, budget.subtask_tokens)
    return max(low, min(high, round(budget.subtask_tokens * LEVELS[level].budget_scale)))


def effort_for(difficulty: Difficulty, budget: Budget, *, failures: int = 0) -> Effort:
    """The effort for a subtask of `difficulty` whose step already failed `failures` times."""
    level = escalate(difficulty, failures)
    spec = LEVELS[level]
    return Effort(
        model=ESCALATED_TIER if failures > 0 else spec.tier,
        reasoning_effort=spec.reasoning_effort,
        max_steps=spec.max_steps,
        budget_tokens=budget_tokens(level, budget),
        thinking_tools=spec.thinking_tools,
    )


class Escalation(BaseModel):
    """A subtask run at more effort because an earlier attempt at its step failed."""

    subtask_id: str
    step_id: str
    after: str  # the failed subtask
    before: Effort
    effort: Effort


def escalations(subtasks: list[Subtask]) -> list[Escalation]:
    """The subtasks that retry a failed step, each with the effort of the attempt it follows."""
    failed: dict[str, Subtask] = {}  # per step: its latest failed subtask
    found = []
    for s in subtasks:
        last = next((failed[step] for step in s.steps if step in failed), None)
        if last is not None and s.id != last.id:
            found.append(Escalation(subtask_id=s.id, step_id=s.step_id, after=last.id,
                                    before=last.effort, effort=s.effort))
        if s.status == "failed":
            for step in s.steps:
                failed[step] = s
    return found


def describe(effort: Effort) -> str:
    """An effort in a few words: "strong · high · 12 steps · thinking"."""
    parts = [effort.model or "default", effort.reasoning_effort or "no reasoning effort",
             f"{effort.max_steps} steps"]
    return " · ".join(parts + ["thinking"] * effort.thinking_tools)
