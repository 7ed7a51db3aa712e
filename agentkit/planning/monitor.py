"""The monitor: after every round, a progress ledger decides what happens next.

It answers four questions from real results — is the goal met? is the run looping? is it
progressing? what next? — and turns them into one action: dispatch ready subtasks, revise the
plan (with a trigger and a reason that are recorded), extend a plan whose steps are all done
but whose goal needs more (`Plan.continues`, trigger `extend`), or finish.

Progress is not "a subtask ended `done`": a round of work progresses when it finishes a subtask
with a result that says something no earlier result said (`repeats`), or when new facts were
recorded. `stall_limit` rounds in a row without either are a stall (trigger `stall`): work that
keeps producing different-looking but useless results, which neither fails nor loops.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from agentkit.schema import Subtask

Action = Literal["dispatch", "revise", "finish"]
Trigger = Literal["failure", "loop", "stall", "budget", "contradiction", "extend", ""]


@dataclass(kw_only=True, frozen=True)
class Decision:
    action: Action
    reason: str
    trigger: Trigger = ""
    ready: tuple[str, ...] = ()


@dataclass(kw_only=True, frozen=True)
class Progress:
    """What the monitor knows besides the subtasks."""

    plan_version: int
    revisions: int
    max_revisions: int
    stalls: int = 0
    stall_limit: int = 3
    tokens_left: int | None = None
    # Per failed subtask id: a description of the repeated action, when it was looping.
    loops: dict[str, str] | None = None
    # The plan says the goal needs more steps than it holds (`Plan.continues`).
    continues: bool = False


def ready_subtasks(subtasks: list[Subtask], plan_version: int) -> list[Subtask]:
    done = {s.id for s in subtasks if s.status == "done"}
    return [
        s
        for s in subtasks
        if s.plan_version == plan_version
        and s.status == "pending"
        and all(d in done for d in s.depends_on)
    ]


def repeated_failure(subtasks: list[Subtask], failed: Subtask) -> bool:
    """The same step already failed the same way under an earlier plan version."""
    return any(
        s.id != failed.id
        and s.status == "failed"
        and s.step_id == failed.step_id
        and (s.result or "") == (failed.result or "")
        for s in subtasks
    )


def decide(subtasks: list[Subtask], progress: Progress) -> Decision:
    current = [s for s in subtasks if s.plan_version == progress.plan_version]
    revision = _revision_needed(subtasks, current, progress)
    if revision is not None:
        trigger, reason = revision
        if progress.revisions < progress.max_revisions:
            return Decision(action="revise", trigger=trigger, reason=reason)
        return Decision(
            action="finish",
            trigger=trigger,
            reason=f"{reason}; revision cap of {progress.max_revisions} reached",
        )
    ready = ready_subtasks(subtasks, progress.plan_version)
    if ready:
        return Decision(action="dispatch", reason="ready", ready=tuple(s.id for s in ready))
    if all(s.status in ("done", "skipped") for s in current):
        if progress.continues:  # not a change of course: no revision cap applies
            return Decision(action="revise", trigger="extend", reason=(
                f"the {len(current)} subtask(s) of plan v{progress.plan_version} are done and "
                "the goal needs more steps; extend the plan"))
        return Decision(action="finish", reason="every subtask is done")
    return Decision(action="finish", reason="no subtask can run: dependencies cannot be met")


def _revision_needed(
    subtasks: list[Subtask], current: list[Subtask], progress: Progress
) -> tuple[Trigger, str] | None:
    contradicted = [s for s in current if s.contradiction]
    if contradicted:
        first = contradicted[0]
        return "contradiction", f"subtask {first.id} ({first.title!r}) {first.contradiction}"
    failed = [s for s in current if s.status == "failed"]
    if failed:
        first = failed[0]
        loop = (progress.loops or {}).get(first.id)
        if loop:
            return "loop", f"subtask {first.id} ({first.title!r}) was looping: {loop}"
        if repeated_failure(subtasks, first):
            return "loop", (
                f"step {first.step_id!r} failed again the same way: {(first.result or '')[:200]}"
            )
        return (
            "failure",
            f"subtask {first.id} ({first.title!r}) failed: {(first.result or '')[:300]}",
        )
    if progress.stalls >= progress.stall_limit:
        return "stall", (
            f"the last {progress.stalls} rounds of work finished no subtask with a new result "
            "and recorded no new facts; change the approach")
    pending = [s for s in current if s.status == "pending"]
    needed = sum(s.estimated_tokens for s in pending)
    if progress.tokens_left is not None and pending and needed > progress.tokens_left:
        return "budget", (
            f"the remaining subtasks need about {needed} tokens but {progress.tokens_left} are "
            "left; shrink the plan to what still fits"
        )
    return None


def looping_calls(calls: list[tuple[str, str]], repeats: int = 3) -> str | None:
    """Describe the loop if the last `repeats` tool calls were the same call with the same args."""
    if len(calls) < repeats:
        return None
    tail = calls[-repeats:]
    if len(set(tail)) == 1:
        name, args = tail[0]
        return f"called {name} with the same arguments {repeats} times in a row ({args[:120]})"
    return None


# Two results whose word sets overlap this much (Jaccard) say the same thing ...
SAME_WORDS = 0.8
# ... when both have at least this many words; shorter ones only when their words are the same:
# one word more or less in a short result ("step 2", "14 units") changes what it says.
FUZZY_WORDS = 8


def repeats(result: str, earlier: Iterable[str]) -> bool:
    """Whether `result` says nothing an earlier result did not: the same words (case and
    punctuation set aside; numbers are words), or — for results of `FUZZY_WORDS` words or
    more — mostly the same words."""
    words = _words(result)
    for other in earlier:
        seen = _words(other)
        if words == seen:
            return True
        if min(len(words), len(seen)) >= FUZZY_WORDS and _overlap(words, seen) >= SAME_WORDS:
            return True
    return False


def progressed(new: Iterable[Subtask], earlier: Iterable[Subtask], *, new_facts: bool) -> bool:
    """Whether a round that finished `new` (after `earlier`) made progress (module docstring)."""
    if new_facts:
        return True
    results = [s.result or "" for s in earlier if s.status in ("done", "failed")]
    for subtask in new:
        if subtask.status == "done" and not repeats(subtask.result or "", results):
            return True
        results.append(subtask.result or "")
    return False


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text.lower())


def _overlap(one: list[str], other: list[str]) -> float:
    a, b = set(one), set(other)
    return len(a & b) / len(a | b)
