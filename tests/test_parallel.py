"""Parallel dispatch through the graph: overlap, the concurrency bound, merge order, isolation.

Executor calls sleep for a scripted time; intervals are measured inside the model function, so
the one-off cost of importing LiteLLM and compiling the graph does not blur the comparison.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from agentkit import Agent, FunctionModel, ModelRequest, Plan, PlanStep, ToolCall
from agentkit.graph import builder
from agentkit.store import open_checkpointer
from tests.scripts import subtask_title


@dataclass
class Timeline:
    """Scripted executors that sleep, and when each one ran."""

    delays: dict[str, float]
    fail_once: set[str] = field(default_factory=set)
    spans: list[tuple[str, float, float]] = field(default_factory=list)
    running: int = 0
    peak: int = 0

    def plan(self, depends: dict[str, list[str]] | None = None) -> Plan:
        return Plan(strategy="independent pieces at once", steps=[
            PlanStep(id=k, title=k, difficulty="easy", depends_on=(depends or {}).get(k, []))
            for k in self.delays
        ])

    def model(self, plan: Plan) -> FunctionModel:
        async def reply(request: ModelRequest) -> object:
            if request.role == "strategist":
                return plan
            if request.role == "finalizer":
                return "all done"
            return await self.execute(subtask_title(request))

        return FunctionModel(reply)

    async def execute(self, title: str) -> object:
        self.running += 1
        self.peak = max(self.peak, self.running)
        start = time.perf_counter()
        try:
            await asyncio.sleep(self.delays[title])
            if title in self.fail_once:
                self.fail_once.discard(title)
                raise RuntimeError(f"{title} broke")
        finally:
            self.running -= 1
            self.spans.append((title, start, time.perf_counter()))
        return ToolCall(name="finish", arguments={"result": f"did {title}"})

    @property
    def wall(self) -> float:
        return max(e for _, _, e in self.spans) - min(s for _, s, _ in self.spans)

    def calls(self, title: str) -> int:
        return sum(1 for t, _, _ in self.spans if t == title)


async def final_statuses(agent: Agent, run_id: str) -> dict[str, str]:
    async with open_checkpointer(agent.store.url) as saver:
        graph = builder().compile(checkpointer=saver)
        state = await graph.aget_state({"configurable": {"thread_id": run_id}})
    return state.values["statuses"]


async def test_independent_subtasks_overlap(db: str, workspace: Path) -> None:
    timeline = Timeline({"A": 0.4, "B": 0.4, "C": 0.4, "D": 0.4})
    agent = Agent(timeline.model(timeline.plan()), db=db, workspace=workspace, max_concurrency=4)

    result = await agent.run("four independent pieces")

    assert result.status == "completed", result.error
    assert timeline.peak == 4
    total = sum(timeline.delays.values())
    assert timeline.wall < 0.75 * total, (timeline.wall, total)
    assert timeline.wall < 2 * 0.4  # near the critical path (one piece), with a wide margin


async def test_a_dependency_chain_waits_and_the_rest_overlaps(db: str, workspace: Path) -> None:
    timeline = Timeline({"A": 0.3, "B": 0.3, "C": 0.3, "D": 0.3})
    plan = timeline.plan({"C": ["A"], "D": ["B"]})
    agent = Agent(timeline.model(plan), db=db, workspace=workspace, max_concurrency=4)

    result = await agent.run("two chains of two")

    assert result.status == "completed", result.error
    span = {t: (s, e) for t, s, e in timeline.spans}
    assert span["C"][0] >= span["A"][1] and span["D"][0] >= span["B"][1]
    assert timeline.peak == 2
    assert timeline.wall < 0.75 * sum(timeline.delays.values())  # critical path 0.6 of 1.2


async def test_max_concurrency_bounds_the_branches(db: str, workspace: Path) -> None:
    timeline = Timeline({"A": 0.2, "B": 0.2, "C": 0.2, "D": 0.2})
    agent = Agent(timeline.model(timeline.plan()), db=db, workspace=workspace, max_concurrency=2)

    result = await agent.run("four pieces, two at a time")

    assert result.status == "completed", result.error
    assert timeline.peak == 2
    assert timeline.wall >= 2 * 0.2


async def test_merge_order_is_by_subtask_id_not_by_arrival(db: str, workspace: Path) -> None:
    # Ten pieces, the first the slowest: they finish in reverse, and t10 sorts after t9.
    titles = [f"P{i}" for i in range(1, 11)]
    timeline = Timeline({t: 0.05 * (11 - i) for i, t in enumerate(titles, start=1)})
    agent = Agent(timeline.model(timeline.plan()), db=db, workspace=workspace,
                  max_concurrency=10)

    result = await agent.run("ten pieces")

    assert result.status == "completed", result.error
    ids = [f"t{i}" for i in range(1, 11)]
    events = agent.store.get_events(result.run_id)
    arrival = [e.subtask_id for e in events if e.kind == "subtask_finished"]
    assert arrival == ids[::-1]  # the test really reorders arrivals
    assert [s.id for s in result.subtasks] == ids
    assert [s.result for s in result.subtasks] == [f"did {t}" for t in titles]
    assert list(await final_statuses(agent, result.run_id)) == ids


async def test_a_failing_branch_does_not_lose_the_others(db: str, workspace: Path) -> None:
    timeline = Timeline({"A": 0.3, "B": 0.1, "C": 0.2}, fail_once={"B"})
    agent = Agent(timeline.model(timeline.plan()), db=db, workspace=workspace, max_concurrency=3)

    result = await agent.run("three pieces, one breaks once")

    assert result.status == "completed", result.error
    by_id = {s.id: s for s in result.subtasks}
    # B failed while A and C were still running; their results were kept ...
    assert (by_id["t1"].status, by_id["t1"].result) == ("done", "did A")
    assert by_id["t2"].status == "failed" and "B broke" in (by_id["t2"].result or "")
    assert (by_id["t3"].status, by_id["t3"].result) == ("done", "did C")
    # ... and not redone: only B's step ran again, under the revised plan.
    assert [timeline.calls(t) for t in "ABC"] == [1, 2, 1]
    retried = [s for s in result.subtasks if s.step_id == "B" and s.status == "done"]
    assert len(retried) == 1 and retried[0].plan_version == 2


async def test_a_subtask_starts_when_its_inputs_are_done_not_when_its_round_is(
    db: str, workspace: Path
) -> None:
    # "Slow" (independent) keeps running until "Then" (after "Quick") has started, or 10 s: with
    # a barrier between rounds, "Then" could only start after "Slow" ended.
    then_started = asyncio.Event()
    plan = Plan(strategy="a slow piece beside a quick chain", steps=[
        PlanStep(id="slow", title="Slow", difficulty="easy"),
        PlanStep(id="quick", title="Quick", difficulty="easy"),
        PlanStep(id="then", title="Then", difficulty="easy", depends_on=["quick"]),
    ])

    async def reply(request: ModelRequest) -> object:
        if request.role == "strategist":
            return plan
        if request.role == "finalizer":
            return "all done"
        title = subtask_title(request)
        if title == "Then":
            then_started.set()
        elif title == "Slow":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(then_started.wait(), 10)
        return ToolCall(name="finish", arguments={"result": f"did {title}"})

    agent = Agent(FunctionModel(reply), db=db, workspace=workspace, max_concurrency=4)
    result = await agent.run("a slow piece and a quick chain")

    assert result.status == "completed", result.error
    order = [(e.kind, e.subtask_id) for e in agent.store.get_events(result.run_id)
             if e.kind in ("subtask_started", "subtask_finished")]
    assert order.index(("subtask_started", "t3")) < order.index(("subtask_finished", "t1"))
    assert order.index(("subtask_finished", "t2")) < order.index(("subtask_started", "t3"))
    monitors = [e for e in agent.store.get_events(result.run_id) if e.kind == "monitor"]
    assert [m.data["action"] for m in monitors] == ["dispatch", "finish"]  # one round
