"""Replay: a recorded run re-enacted from its record alone, as a new run with the same record.

The replay is built from the record, never from the agent that asks for it: the run's model
names, roles, aliases, budget, context and concurrency settings come from its stored settings;
only the tools (which the record names but cannot hold) are the caller's.

It lives the original's lives. A run's event log is cut into lives where a process started on
it: the first, each `resumed` (after a kill) and each `approval_given` (after a pause). In each,
the graph runs in `replay` mode (`agentkit.runtime`): model calls and tool runs take the
original's results at the positions the original wrote them, a life ends where the original's
process ended (`LifeEnded`), a pause asks for the approvals the original asked for, and the
next life goes on from the replay's checkpoint with the decisions the original recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from agentkit.models import ModelClient
from agentkit.runtime import RunContext
from agentkit.schema import Budget
from agentkit.store import EventRow, RunRow, Store, open_checkpointer
from agentkit.store.journal import Cue, Journal, LifeEnded, ReplayDivergence

if TYPE_CHECKING:
    from agentkit.tools import Toolset

__all__ = ["Life", "lives", "replay_run"]


@dataclass(kw_only=True, frozen=True)
class Life:
    """One process's part of a run: its events `first` to `last` (positions in the log)."""

    kind: Literal["start", "resume", "approve"]
    first: int
    last: int


def lives(log: Sequence[EventRow]) -> list[Life]:
    """The lives of a run, from its event log."""
    starts: list[tuple[Literal["start", "resume", "approve"], int]] = [("start", 1)]
    for i, event in enumerate(log):
        if event.kind == "resumed":
            starts.append(("resume", event.seq))
        elif event.kind == "approval_given" and (i == 0 or log[i - 1].kind != "approval_given"):
            starts.append(("approve", event.seq))
    end = log[-1].seq if log else 0
    return [
        Life(kind=kind, first=first, last=(starts[j + 1][1] - 1 if j + 1 < len(starts) else end))
        for j, (kind, first) in enumerate(starts)
    ]


async def replay_run(store: Store, run_id: str, tools: Toolset) -> str:
    """Replay run `run_id` with `tools` as a new run; return the new run's id.

    Raises:
        ReplayDivergence: the replay asked for something the record does not hold.
    """
    original = store.get_run(run_id)
    log = store.get_events(original.id)
    new_id = store.create_run(
        goal=original.goal, model=original.model, workspace=original.workspace,
        settings={**original.settings, "replay_of": original.id}, parent_run_id=original.id,
    )
    forked = log[0] if log and log[0].kind == "forked" else None
    if forked is not None:  # the subtasks the fork carried over, as it carried them
        carried = set(forked.data["carried"])
        store.save_subtasks(new_id, [
            s.model_copy(update={"plan_version": 0})
            for s in store.get_subtasks(forked.data["run"]) if s.id in carried
        ])
    source = Journal.for_run(store, original.id, strict=True)
    all_lives = lives(log)
    asked: list[EventRow] = []
    waiting: list[dict[str, Any]] = []
    for life in all_lives:
        cue = Cue(written=len(store.get_events(new_id)), last=life.last,
                  final=life is all_lives[-1])
        ctx = _context(store, original, new_id, tools, life=life, source=source, cue=cue)
        decisions = None
        if life.kind == "start" and forked is not None:
            ctx.emit("forked", forked.data)
        elif life.kind == "resume":
            ctx.emit("resumed", log[life.first - 1].data)
        elif life.kind == "approve":
            decisions = _decide(ctx, log, life, asked, waiting)
            store.finish_run(new_id, "running", answer=None)
        waiting = await _live(ctx, decisions, int(original.settings.get("max_concurrency", 4)))
        asked = [e for e in log[life.first - 1:life.last] if e.kind == "approval_requested"]
        if waiting:
            _ask(ctx, asked, waiting)
    return new_id


def _context(
    store: Store, original: RunRow, run_id: str, tools: Toolset, *, life: Life, source: Journal,
    cue: Cue,
) -> RunContext:
    """A replay's context for one life: everything from the original's record."""
    from agentkit.graph import ask_approval

    settings = original.settings
    first = store.plan_versions(original.id)[:1]
    start = first[0] if first and first[0].trigger in ("plan_file", "fork") else None
    return RunContext(
        run_id=run_id, goal=original.goal, store=store,
        models=ModelClient(default=original.model, roles=dict(settings.get("roles") or {}),
                           aliases=dict(settings.get("aliases") or {}),
                           efforts=dict(settings.get("reasoning_efforts") or {}),
                           small=frozenset([original.model] if settings.get("small") else [])),
        tools=tools, workspace=Path(original.workspace),
        budget=Budget.model_validate(settings.get("budget") or {}), mode="replay",
        journal=None if life.kind == "start" else Journal.for_run(store, run_id),
        source=source, cue=cue, approve=ask_approval,
        initial_plan=None if start is None else start.plan,
        initial_trigger="plan_file" if start is None else start.trigger,
        max_prompt_tokens=settings.get("max_prompt_tokens"),
        sandbox=settings.get("sandbox", "bwrap"),
        sandbox_network=bool(settings.get("sandbox_network", False)),
        calibrate_run=settings.get("calibrate_run"),
    )


async def _live(
    ctx: RunContext, decisions: dict[str, bool] | None, max_concurrency: int
) -> list[dict[str, Any]]:
    """Run one life of the replay; return the approvals it pauses on."""
    from agentkit.graph import advance, builder, resume_with, run_config

    config = run_config(ctx.run_id, max_concurrency=max_concurrency)
    async with open_checkpointer(ctx.store.url) as saver:
        graph = builder().compile(checkpointer=saver)
        if decisions is not None:
            graph_input: Any = resume_with(decisions)
        else:
            started = (await saver.aget_tuple(config)) is not None
            graph_input = None if started else {"run_id": ctx.run_id}
        try:
            return await advance(graph, graph_input, config, ctx)
        except LifeEnded:
            if ctx.cue is None or ctx.cue.final:  # the last life runs to the original's end
                raise
            return []


def _ask(ctx: RunContext, asked: list[EventRow], waiting: list[dict[str, Any]]) -> None:
    """Write the approval requests the original wrote when it paused here."""
    mine = {_call(item): item for item in waiting}
    theirs = {_call(e.data): e for e in asked}
    if set(mine) != set(theirs):
        raise ReplayDivergence(
            f"replay diverged at a pause: it waits on approval of {sorted(mine)!r}, the "
            f"original waited on {sorted(theirs)!r}")
    for event in asked:
        ctx.emit("approval_requested", event.data, subtask_id=event.subtask_id)
    ctx.records.finish("awaiting_approval", answer=None)


def _decide(
    ctx: RunContext, log: Sequence[EventRow], life: Life, asked: list[EventRow],
    waiting: list[dict[str, Any]],
) -> dict[str, bool]:
    """The original's decisions on the approvals the replay waits on, written as it wrote them.

    Approval ids are the graph's own (they differ between runs), so a decision is matched to
    the replay's request by the call it is about; the log keeps the original's ids.
    """
    mine = {_call(item): item["id"] for item in waiting}
    theirs = {e.data["id"]: _call(e.data) for e in asked}
    decisions: dict[str, bool] = {}
    for event in log[life.first - 1:life.last]:
        if event.kind != "approval_given":
            break
        ctx.emit("approval_given", event.data, subtask_id=event.subtask_id)
        decisions[mine[theirs[event.data["id"]]]] = bool(event.data["allowed"])
    return decisions


def _call(item: dict[str, Any]) -> tuple[str, str, str, str]:
    return (item["subtask_id"], item["call_id"], item["name"], item["arguments"])
