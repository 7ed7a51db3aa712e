"""The LangGraph wiring — the one place nodes are connected.

```
calibrate ─► strategist ─► decomposer ─► monitor ─┬─► dispatch (a task per subtask) ─► monitor
                 ▲                                ├─► strategist (revise, reason recorded)
                 └────────────────────────────────┘─► finalizer ─► END
```

Dispatch is event-driven, not a superstep per round: the `dispatch` node starts each pending
subtask of the plan as a LangGraph functional-API task (`langgraph.func.task`), all of them at
once and in subtask order, and each waits at the round's `agentkit.execution.dispatch.Gate`
until its dependencies are done and a concurrency slot is free. A subtask whose inputs are done
therefore starts while unrelated slow ones still run. Why tasks, and not an asyncio scheduler
inside one node or a `Send` per ready subtask:

- each task has its own checkpointed result: a finished subtask is not run again when the node
  runs again (after a kill, or when an approval resumes it), and a task's id depends only on
  the node's id and the order it was called in, which is the queue's order, the same in every
  life of the round;
- each task has its own interrupt scratchpad, so several executors waiting for approval in one
  node each get their own decisions (a resume value is matched per task, then by position);
- results merge in queue order (subtask order), not in the order they arrive.

Graph state holds ids and small values; plans, subtasks, tool outputs live in the database.
"""

from __future__ import annotations

import asyncio
import functools
import operator
from typing import Annotated, Any, Literal, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.config import get_config
from langgraph.errors import GraphInterrupt
from langgraph.func import task
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command, interrupt

from agentkit.errors import BudgetExceeded, ModelError, ProviderUnavailable, RunError
from agentkit.execution import dispatch, executor, toolbox, verifier
from agentkit.planning import decomposer, horizon, lifecycle, monitor, scope, strategist
from agentkit.planning.ledger import Ledger
from agentkit.runtime import RunContext
from agentkit.schema import Plan, Subtask
from agentkit.tokens import count_tools
from agentkit.tracing import traced_node


def _merge(left: dict[str, str], right: dict[str, str]) -> dict[str, str]:
    return {**left, **right}


# Written as `stop` to clear it: a run that stopped on its budget goes on with a larger one.
CLEARED = "cleared"


def _first(left: str | None, right: str | None) -> str | None:
    """Keep the first reason to stop: parallel executors may all hit the budget at once."""
    if right == CLEARED:
        return None
    return left or right


class RunState(TypedDict, total=False):
    run_id: str
    plan_version: int
    revisions: int
    rounds: Annotated[int, operator.add]
    statuses: Annotated[dict[str, str], _merge]
    action: str
    reason: str
    ready: list[str]
    # The pending subtasks of the plan a dispatch round starts a task for, in subtask order.
    queue: list[str]
    trigger: str
    stalls: int
    done_count: int
    # At the monitor's last look: the subtasks that had ended, and how many facts there were.
    ended: list[str]
    facts_count: int
    stop: Annotated[str | None, _first]
    failure: str | None


class ExecutorInput(TypedDict):
    run_id: str
    subtask_id: str
    plan_version: int


def calibrate(state: RunState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    ctx.emit("calibrated", {"budget": ctx.budget.model_dump(), "tools": ctx.tools.names})
    return {"plan_version": 0, "revisions": 0, "stop": None, "failure": None, "trigger": "",
            "stalls": 0, "done_count": 0}


async def plan_node(state: RunState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    revising = state.get("plan_version", 0) > 0
    try:
        plan, trigger, reason = await (_revised(ctx, state) if revising else _first_plan(ctx))
    except BudgetExceeded as e:
        return {"stop": e.kind, "reason": str(e)}
    except (ModelError, ValueError) as e:
        return {"failure": f"the strategist's plan is unusable: {e}", "reason": str(e)}
    version = ctx.records.add_plan(plan, trigger=trigger, reason=reason)
    gone = horizon.archived(ctx.records.subtasks(), plan, version) if revising else []
    ctx.emit(
        "plan", {"version": version, "trigger": trigger, "reason": reason,
                 "steps": [s.id for s in plan.steps], "archived": len(gone)},
    )
    # Extending a finished window is not a change of course: it leaves the revision cap alone.
    counted = revising and trigger != "extend"
    return {"plan_version": version, "revisions": state.get("revisions", 0) + int(counted),
            "trigger": trigger if revising else ""}


async def _first_plan(ctx: RunContext) -> tuple[Plan, str, str]:
    """The first plan, its trigger and reason: a saved plan, or the strategist's."""
    if ctx.initial_plan is not None:
        trigger = ctx.initial_trigger
        reason = "loaded from a plan file" if trigger == "plan_file" else f"{trigger} of a run"
        return ctx.initial_plan, trigger, reason
    found = await scope.calibrate(ctx.client, ctx.goal, tool_names=ctx.tools.names,
                                  enabled=ctx.calibrate_run)
    if found is not None and found.one_subtask:
        return scope.one_step_plan(ctx.goal, found.reason), "initial", scope.recorded_reason(found)
    plan = await strategist.first_plan(
        ctx.client, ctx.goal, tool_names=ctx.tools.names, budget_note=ctx.meter.left_note())
    return plan, "initial", "first plan" if found is None else scope.recorded_reason(found)


async def _revised(ctx: RunContext, state: RunState) -> tuple[Plan, str, str]:
    """The strategist's revision of the current plan, keeping the work done."""
    current = ctx.records.plan()
    assert current is not None  # a revision follows a persisted plan
    reason = state.get("reason") or "revision"
    subtasks = ctx.records.subtasks()
    if state.get("trigger") == "extend":
        extension = await horizon.extend(
            ctx.client, ctx.goal, plan=current.plan,
            ledger=Ledger.from_subtasks(subtasks, facts=ctx.records.facts()),
            tool_names=ctx.tools.names, budget_note=ctx.meter.left_note(),
        )
        if extension.goal_met or not extension.steps:
            reason = f"{reason}; the strategist added no steps: the goal is met"
        return horizon.extended(current.plan, extension, subtasks), "extend", reason
    if (again := scope.retried(current.plan, small=ctx.client.is_small("strategist"))) is not None:
        return strategist.carry_over(current.plan, again, subtasks), "failure", reason
    plan = await strategist.revise(
        ctx.client, ctx.goal, plan=current.plan,
        ledger=Ledger.from_subtasks(subtasks, facts=ctx.records.facts()),
        reason=reason, tool_names=ctx.tools.names, budget_note=ctx.meter.left_note(),
    )
    kept = strategist.carry_over(current.plan, plan, subtasks)
    return kept, state.get("trigger") or "failure", reason


async def decompose_node(state: RunState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    version = state["plan_version"]
    found = ctx.records.plan(version)
    assert found is not None  # the strategist just stored it
    existing = ctx.records.subtasks()
    superseded = {}
    for old in existing:
        if lifecycle.supersede(old, version):
            ctx.records.update_subtask(old)
            superseded[old.id] = old.status
    created, splits = await decomposer.decompose_with_model(
        ctx.client, found.plan, version, budget=ctx.budget, existing=existing, goal=ctx.goal,
        tool_names=ctx.tools.names,
        tools_tokens=decomposer.DEFAULT_TOOLS_TOKENS + count_tools(ctx.tools.specs()),
    )
    ctx.records.save_subtasks(created)
    for split in splits:
        ctx.emit("step_split", {"step": split.step_id, "source": split.source,
                                "reason": split.reason, "titles": list(split.titles),
                                "depth": split.depth, "sub_step": split.sub_step})
    for s in created:
        ctx.emit(
            "subtask", {"id": s.id, "step": s.step_id, "title": s.title,
                        "depends_on": s.depends_on, "estimated_tokens": s.estimated_tokens},
            subtask_id=s.id,
        )
    return {"statuses": {**superseded, **{s.id: s.status for s in created}}}


def monitor_node(state: RunState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    subtasks = ctx.records.subtasks()
    done = sum(s.status == "done" for s in subtasks)
    stalls, seen = _stalls(ctx, state, subtasks)
    if state.get("failure"):
        decision = monitor.Decision(action="finish", reason=state["failure"] or "")
    elif state.get("stop") or (hit := ctx.meter.exhausted()):
        kind = state.get("stop") or hit[0]  # type: ignore[index]
        decision = monitor.Decision(action="finish", reason=f"{kind} budget spent")
        state = {**state, "stop": kind}
    else:
        version = state["plan_version"]
        decision = monitor.decide(subtasks, monitor.Progress(
            plan_version=version, revisions=state.get("revisions", 0),
            max_revisions=ctx.budget.max_revisions, stalls=stalls,
            stall_limit=ctx.budget.stall_limit,
            tokens_left=None if state.get("trigger") == "budget"
            else ctx.budget.tokens_left(ctx.meter.usage),
            loops=_loops(ctx, [s for s in subtasks
                               if s.plan_version == version and s.status == "failed"]),
            continues=_continues(ctx, version),
        ))
    ctx.emit("monitor", {"action": decision.action, "trigger": decision.trigger,
                          "reason": decision.reason, "ready": list(decision.ready),
                          "done": done, "stalls": stalls})
    update: dict[str, Any] = {
        "action": decision.action, "reason": decision.reason, "rounds": 1,
        "ready": list(decision.ready), "stop": state.get("stop"), "done_count": done,
        "queue": [s.id for s in subtasks if decision.action == "dispatch"
                  and s.plan_version == state.get("plan_version") and s.status == "pending"],
        # Extending the plan is not a change of course: a stall goes on counting across it.
        "stalls": 0 if decision.action == "revise" and decision.trigger != "extend" else stalls,
        "ended": seen["ended"], "facts_count": seen["facts"],
    }
    if decision.action == "revise":
        update["trigger"] = decision.trigger
    return update


def _stalls(ctx: RunContext, state: RunState,
            subtasks: list[Subtask]) -> tuple[int, dict[str, Any]]:
    """Rounds of work in a row without progress (`monitor.progressed`), and what the next look
    compares with: the subtasks ended so far and the number of facts."""
    facts = len(ctx.records.facts())
    ended = [s for s in subtasks if s.status in ("done", "failed")]
    seen = {"ended": [s.id for s in ended], "facts": facts}
    if state.get("action") != "dispatch":  # no work since the last look
        return state.get("stalls", 0), seen
    before = set(state.get("ended") or [])
    moved = monitor.progressed([s for s in ended if s.id not in before],
                               [s for s in ended if s.id in before],
                               new_facts=facts > state.get("facts_count", 0))
    return 0 if moved else state.get("stalls", 0) + 1, seen


def _continues(ctx: RunContext, version: int) -> bool:
    """Whether plan `version` says the goal needs more steps than it holds."""
    found = ctx.records.plan(version)
    return found is not None and found.plan.continues


def _loops(ctx: RunContext, failed: list[Any]) -> dict[str, str]:
    if not failed:
        return {}
    calls = ctx.records.tool_calls()
    found = {}
    for subtask in failed:
        mine = [(c.name, c.arguments) for c in calls
                if c.subtask_id == subtask.id and c.name not in toolbox.CONTROL_NAMES]
        if (loop := monitor.looping_calls(mine)) is not None:
            found[subtask.id] = loop
    return found


def route(state: RunState) -> Literal["dispatch", "strategist", "finalizer"]:
    action = state.get("action")
    if action == "revise":
        return "strategist"
    if action == "dispatch" and state.get("queue"):
        return "dispatch"
    return "finalizer"


# The `configurable` key of a run's config that says how many subtasks run at once. It is not
# LangGraph's own `max_concurrency`: that bounds every task of a step, the dispatch node's
# subtask tasks and the node itself included, so a node waiting for its tasks could starve them.
MAX_CONCURRENCY = "agentkit_max_concurrency"


async def dispatch_node(state: RunState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Run the round's queue, each subtask as soon as it may start (see the module docstring).

    A pause for approval in any subtask pauses the node once the others have ended: its
    finished tasks keep their results, and the paused ones resume with their own decisions.
    """
    ctx = runtime.context
    queue = state.get("queue") or []
    every = {s.id: s for s in ctx.records.subtasks()}
    gate = dispatch.Gate.for_round([every[sid] for sid in queue], every.values(),
                                   slots=int(get_config()["configurable"].get(MAX_CONCURRENCY, 4)))
    calls = [run_subtask(gate, ctx, ExecutorInput(run_id=state["run_id"], subtask_id=sid,
                                                   plan_version=state["plan_version"]))
             for sid in queue]
    ended: dict[str, dict[str, Any]] = {}
    paused: list[GraphInterrupt] = []
    for finished in asyncio.as_completed(calls):
        try:
            result = await finished
        except GraphInterrupt as e:
            paused.append(e)
        else:
            ended[result["subtask_id"]] = result
    if paused:
        raise GraphInterrupt(tuple(i for e in paused for i in e.args[0]))
    stops = [r["stop"] for sid in queue if (r := ended[sid])["stop"]]
    return {"statuses": {sid: ended[sid]["status"] for sid in queue if ended[sid]["status"]},
            "stop": stops[0] if stops else None}


async def _subtask(gate: dispatch.Gate, ctx: RunContext, item: ExecutorInput) -> dict[str, Any]:
    """One subtask of a dispatch round: it waits at the gate for its turn, then runs.

    Its result (status None: it did not start in this round) is the task's checkpointed value.
    """
    sid = item["subtask_id"]
    if not await gate.enter(sid):
        return {"subtask_id": sid, "status": None, "stop": None}
    status: str | None = None
    closes: str | None = "the round stopped"
    try:
        update = await traced_executor(item, ctx)
        status, stop = update["statuses"][sid], update.get("stop")
        contradicted = ctx.records.subtask(sid).contradiction
        closes = (f"subtask {sid} ended {status}" if status != "done" or stop or contradicted
                  else None)
        return {"subtask_id": sid, "status": status, "stop": stop}
    except GraphInterrupt:
        closes = None  # paused: it holds no slot, and its dependents wait for a later round
        raise
    finally:
        await gate.leave(sid, status, closes=closes)


async def executor_node(state: ExecutorInput, ctx: RunContext) -> dict[str, Any]:
    """Run one subtask's executor to its end, and record it."""
    subtask = ctx.records.subtask(state["subtask_id"])
    if lifecycle.is_finished(subtask):  # before a crash whose checkpoint missed it
        return {"statuses": {subtask.id: subtask.status}}
    found = ctx.records.plan(state["plan_version"])
    assert found is not None
    lifecycle.start(subtask, lambda: _ledger_for(ctx, subtask).render())
    ctx.records.update_subtask(subtask)
    ctx.emit("subtask_started", {"id": subtask.id}, subtask_id=subtask.id)
    checks = _checks(found.plan, subtask)
    messages = executor.prompt(subtask, ctx.goal, found.plan.render(), subtask.opening_ledger or "",
                               checks, small=executor.is_small(ctx.client, subtask))
    judge = _judge(ctx, subtask) if not checks and verifier.enabled(ctx.client) else None
    try:
        outcome = await executor.execute(subtask, messages, client=ctx.client, tools=ctx.tools,
                                         call_tool=ctx.call_tool, context=ctx.context,
                                         checks=checks, judge=judge)
    except BudgetExceeded as e:
        _stopped(ctx, subtask, str(e))
        return {"statuses": {subtask.id: "pending"}, "stop": e.kind}
    except ProviderUnavailable as e:  # not the subtask's fault: the run is interrupted
        _stopped(ctx, subtask, str(e))
        raise
    except ModelError as e:
        lifecycle.finish(subtask, "failed", f"model error: {e}")
    else:
        subtask.turns = outcome.steps  # all of them: it ran out (the decomposer gives more)
        lifecycle.finish(subtask, outcome.status, outcome.result,
                         contradiction=outcome.contradiction)
    ctx.records.update_subtask(subtask)
    ctx.emit(
        "subtask_finished", {"id": subtask.id, "status": subtask.status, "result": subtask.result},
        subtask_id=subtask.id,
    )
    return {"statuses": {subtask.id: subtask.status}}


def _checks(plan: Plan, subtask: Subtask) -> list[str]:
    """The check commands a result of `subtask` must pass: its steps', once it completes them."""
    if not subtask.completes_step:
        return []
    steps = {s.id: s for s in plan.steps}
    return [c for sid in subtask.steps if sid in steps and (c := steps[sid].check)]


def _judge(ctx: RunContext, subtask: Subtask) -> executor.Judge:
    """The verifier's judgement of `subtask`'s results, each verdict recorded as an event."""

    async def judge(result: str) -> str | None:
        verdict = await verifier.verify(ctx.client, subtask, result)
        ctx.emit("verdict", {"id": subtask.id, "accepted": verdict.accepted,
                             "reason": verdict.reason}, subtask_id=subtask.id)
        if verdict.accepted:
            return None
        return (f"finish was not accepted: the verifier says: {verdict.reason}\nDo what is "
                "missing, then call finish(result) again.")

    return judge


def _stopped(ctx: RunContext, subtask: Subtask, reason: str) -> None:
    """Cut off, not judged: the subtask runs again when the run goes on."""
    ctx.records.update_subtask(lifecycle.stop(subtask))
    ctx.emit("subtask_stopped", {"id": subtask.id, "reason": reason}, subtask_id=subtask.id)


def ask_approval(request: dict[str, Any]) -> bool:
    """Pause the run (a LangGraph interrupt) until a person allows or denies this tool call.

    When the run resumes, the executor node runs again from its start; the journal serves the
    calls it had already made, and here `interrupt` returns the decision.
    """
    return bool(interrupt({"kind": "approval", **request}))


def resume_with(decisions: dict[str, bool]) -> Command:
    """The input that resumes a paused run with a decision per interrupt id."""
    return Command(resume=decisions)


def run_config(run_id: str, *, max_concurrency: int) -> RunnableConfig:
    """LangGraph's config of one run: its checkpoint thread and how many subtasks run at once."""
    return {
        "configurable": {"thread_id": run_id, MAX_CONCURRENCY: max_concurrency},
        "recursion_limit": 10_000,
    }


async def advance(graph: Any, graph_input: Any, config: RunnableConfig,
                  ctx: RunContext) -> list[dict[str, Any]]:
    """Run the graph until it ends or pauses; return the approvals it waits on.

    A checkpoint with nothing left to run for a run that has not finished (a lost write of the
    node that dispatched the next) is sent back to the monitor once, which dispatches from the
    records; if that does not move it either, the run fails with the reason.
    """
    # "sync": each step's checkpoint is on disk before the next step starts, so a kill -9 loses
    # at most the step in flight.
    await graph.ainvoke(graph_input, config, context=ctx, durability="sync")
    waiting = await pending_interrupts(graph, config)
    if waiting or ctx.records.row().status != "running":
        return waiting
    ctx.emit("dispatch_repaired", {"reason": "the checkpoint had nothing left to run, but the "
                                             "run had not finished; the monitor decides again"})
    await graph.aupdate_state(config, None, as_node="decomposer")
    await graph.ainvoke(None, config, context=ctx, durability="sync")
    waiting = await pending_interrupts(graph, config)
    if not waiting and ctx.records.row().status == "running":
        raise RunError(
            f"run {ctx.run_id!r} cannot go on: its checkpoint has nothing left to run and the "
            "monitor dispatched nothing; fork it from its plan (agentkit fork) to continue"
        )
    return waiting


async def reopen_run(graph: Any, config: RunnableConfig) -> None:
    """Send a run that ended on its budget back to the monitor, its reason to stop cleared
    (to the strategist when it stopped before its first plan)."""
    snapshot = await graph.aget_state(config)
    planned = bool(snapshot.values.get("plan_version"))
    await graph.aupdate_state(config, {"stop": CLEARED},
                              as_node="decomposer" if planned else "calibrate")


async def pending_interrupts(graph: Any, config: RunnableConfig) -> list[dict[str, Any]]:
    snapshot = await graph.aget_state(config)
    return [{"id": i.id, **i.value} for i in snapshot.interrupts]


def _ledger_for(ctx: RunContext, subtask: Any) -> Ledger:
    """The ledger an executor sees: done and failed work, facts, and the summaries of earlier
    work that match this subtask (the context manager's memory, searched by its text)."""
    hits = ctx.records.search_memory(f"{subtask.title} {subtask.instructions}", limit=3)
    notes = [h.text for h in hits if h.kind == "summary"]
    return Ledger.from_subtasks(ctx.records.subtasks(),
                                facts=ctx.records.facts(), notes=notes)


async def finalizer_node(state: RunState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    from agentkit.execution.finalizer import finalize

    ctx = runtime.context
    status, answer, error = await finalize(ctx, state)
    ctx.records.finish(status, answer=answer, error=error)
    ctx.emit("run_finished", {"status": status, "error": error})
    return {"action": "done"}


traced_executor = traced_node("executor", executor_node)
run_subtask = task(_subtask)  # a task named "_subtask" in checkpoints


@functools.cache
def builder() -> StateGraph[RunState, RunContext, RunState, RunState]:
    """The graph, built once per process; compile it with a checkpointer per run."""
    graph = StateGraph(RunState, context_schema=RunContext)
    graph.add_node("calibrate", traced_node("calibrate", calibrate))
    graph.add_node("strategist", traced_node("strategist", plan_node))
    graph.add_node("decomposer", traced_node("decomposer", decompose_node))
    graph.add_node("monitor", traced_node("monitor", monitor_node))
    graph.add_node("dispatch", traced_node("dispatch", dispatch_node))
    graph.add_node("finalizer", traced_node("finalizer", finalizer_node))
    graph.add_edge(START, "calibrate")
    graph.add_edge("calibrate", "strategist")
    graph.add_conditional_edges(
        "strategist", lambda s: "finalizer" if s.get("stop") or s.get("failure") else "decomposer",
        ["decomposer", "finalizer"],
    )
    graph.add_edge("decomposer", "monitor")
    graph.add_conditional_edges("monitor", route, ["dispatch", "strategist", "finalizer"])
    graph.add_edge("dispatch", "monitor")
    graph.add_edge("finalizer", END)
    return graph
