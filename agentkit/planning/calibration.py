"""Calibration: difficulty → effort (model tier, step limit, budget, thinking tools)."""

from __future__ import annotations

from agentkit.schema import Budget, Difficulty, Effort

_STEPS: dict[Difficulty, int] = {"trivial": 3, "easy": 5, "medium": 8, "hard": 12}
_LADDER: list[Difficulty] = ["trivial", "easy", "medium", "hard"]


def escalate(difficulty: Difficulty, failures: int) -> Difficulty:
    """Each earlier failure moves a subtask one rung up the difficulty ladder."""
    return _LADDER[min(_LADDER.index(difficulty) + failures, len(_LADDER) - 1)]


def effort_for(difficulty: Difficulty, budget: Budget, *, failures: int = 0) -> Effort:
    level = escalate(difficulty, failures)
    return Effort(
        model="strong" if level == "hard" else None,
        reasoning_effort="high" if level == "hard" else None,
        max_steps=_STEPS[level],
        budget_tokens=budget.subtask_tokens,
        thinking_tools=level in ("medium", "hard"),
    )
