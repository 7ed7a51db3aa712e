"""Calibration: difficulty → effort (model tier, reasoning effort, step limit, budget, thinking).

Difficulty comes from the planner's judgement (`PlanStep.difficulty`) and from history: each
earlier failure of the same step moves it one rung up the ladder. Easy work stays cheap — the
`fast` tier, few steps, a small budget, no thinking tools; a failed step comes back on the
`strong` tier whatever its rung, since the tier it failed on was not enough.

Tiers are names, not models: `Agent(aliases={"fast": ..., "strong": ...})` maps them to LiteLLM
model strings. A tier without an alias runs on the agent's default model; `None` means the
default model on purpose (medium work).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from agentkit.schema import Budget, Difficulty, Effort

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
