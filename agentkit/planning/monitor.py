"""The monitor: after every round, decide what happens next from real results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from agentkit.schema import Subtask

Action = Literal["dispatch", "revise", "finish"]


@dataclass(kw_only=True, frozen=True)
class Decision:
    action: Action
    reason: str
    ready: tuple[str, ...] = ()


def ready_subtasks(subtasks: list[Subtask], plan_version: int) -> list[Subtask]:
    done = {s.id for s in subtasks if s.status == "done"}
    return [
        s for s in subtasks
        if s.plan_version == plan_version and s.status == "pending"
        and all(d in done for d in s.depends_on)
    ]


def decide(
    subtasks: list[Subtask], *, plan_version: int, revisions: int, max_revisions: int
) -> Decision:
    current = [s for s in subtasks if s.plan_version == plan_version]
    failed = [s for s in current if s.status == "failed"]
    if failed:
        first = failed[0]
        reason = f"subtask {first.id} ({first.title!r}) failed: {(first.result or '')[:300]}"
        if revisions < max_revisions:
            return Decision(action="revise", reason=reason)
        return Decision(action="finish", reason=f"{reason}; revision cap {max_revisions} reached")
    ready = ready_subtasks(subtasks, plan_version)
    if ready:
        return Decision(action="dispatch", reason="ready", ready=tuple(s.id for s in ready))
    if all(s.status in ("done", "skipped") for s in current):
        return Decision(action="finish", reason="every subtask is done")
    return Decision(action="finish", reason="no subtask can run: dependencies cannot be met")
