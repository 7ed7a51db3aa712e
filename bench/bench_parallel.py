"""Parallel speedup: simulated-latency subtask DAGs, run in parallel vs one at a time.

Every DAG is a plan whose steps are executed by a scripted executor that sleeps for the step's
latency and finishes. The same plan runs through the whole `Agent` graph twice: with
`max_concurrency=1` (sequential) and with enough concurrency for the widest layer. The speedup
is reported as a fraction of the ideal, total work ÷ critical path.

The monitor dispatches in rounds (a LangGraph superstep: every branch of a round ends before the
next round starts), so a DAG whose parallel branches have unequal latencies cannot reach the
critical path. `round_bound` is the best time a round-based dispatcher can reach; the gap between
it and the critical path is the cost of the rounds, not of overhead.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from agentkit import Agent, FunctionModel, ModelRequest, Plan, PlanStep, ToolCall

# name -> {step: (latency in units, dependencies)}
Dag = dict[str, tuple[float, list[str]]]
DAGS: dict[str, Dag] = {
    "wide-8": {f"w{i}": (1.0, []) for i in range(1, 9)},
    "layers-3x3": {
        f"l{layer}{i}": (1.0, [f"l{layer - 1}{j}" for j in range(1, 4)] if layer > 1 else [])
        for layer in range(1, 4) for i in range(1, 4)
    },
    "diamond": {"a": (1.0, []), "b": (1.0, ["a"]), "c": (1.0, ["a"]), "d": (1.0, ["a"]),
                "e": (1.0, ["b", "c", "d"])},
    "uneven-chains": {"a1": (1.0, []), "a2": (1.0, ["a1"]), "b1": (0.5, []),
                      "b2": (1.5, ["b1"]), "c1": (1.5, []), "c2": (0.5, ["c1"])},
}
SIZES: dict[str, dict[str, Any]] = {
    "smoke": {"unit_s": 0.05, "dags": ["wide-8", "diamond"]},
    "full": {"unit_s": 1.0, "dags": list(DAGS)},
}
TARGET = 0.90


def critical_path(dag: Dag) -> float:
    finish: dict[str, float] = {}
    for step, (latency, deps) in dag.items():  # steps are listed after their dependencies
        finish[step] = latency + max((finish[d] for d in deps), default=0.0)
    return max(finish.values())


def round_bound(dag: Dag) -> float:
    """Time of a dispatcher that starts each round when the whole previous round has ended."""
    done: set[str] = set()
    total = 0.0
    while len(done) < len(dag):
        ready = [s for s, (_, deps) in dag.items() if s not in done and set(deps) <= done]
        total += max(dag[s][0] for s in ready)
        done |= set(ready)
    return total


def _plan(dag: Dag) -> Plan:
    return Plan(strategy="simulated work", steps=[
        PlanStep(id=step, title=step, difficulty="easy", depends_on=deps)
        for step, (_, deps) in dag.items()
    ])


def _model(dag: Dag, unit_s: float, spans: list[float]) -> FunctionModel:
    plan = _plan(dag)

    async def reply(request: ModelRequest) -> object:
        if request.role == "strategist":
            return plan
        if request.role == "finalizer":
            return "done"
        title = request.messages[1]["content"].split("Your subtask (", 1)[1].split(": ", 1)[1]
        title = title.split("\n", 1)[0]
        spans.append(time.perf_counter())
        await asyncio.sleep(dag[title][0] * unit_s)
        spans.append(time.perf_counter())
        return ToolCall(name="finish", arguments={"result": title})

    return FunctionModel(reply)


async def _timed_run(
    dag: Dag, unit_s: float, concurrency: int, folder: Path
) -> tuple[float, float]:
    """(seconds from the first subtask's start to the last one's end, seconds of the whole run)"""
    spans: list[float] = []
    agent = Agent(_model(dag, unit_s, spans), db=folder / f"c{concurrency}.db",
                  workspace=folder, max_concurrency=concurrency)
    started = time.perf_counter()
    result = await agent.run("simulated DAG")
    elapsed = time.perf_counter() - started
    if result.status != "completed":
        raise RuntimeError(f"benchmark run ended {result.status!r}: {result.error}")
    return max(spans) - min(spans), elapsed


async def _measure(name: str, dag: Dag, unit_s: float) -> dict[str, Any]:
    width = max(sum(1 for _, deps in dag.values() if not deps), 4)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sequential, sequential_run = await _timed_run(dag, unit_s, 1, folder)
        parallel, parallel_run = await _timed_run(dag, unit_s, width, folder)
    work = sum(latency for latency, _ in dag.values())
    ideal = work / critical_path(dag)
    speedup = sequential / parallel
    return {
        "dag": name, "subtasks": len(dag), "work_s": work * unit_s,
        "critical_path_s": critical_path(dag) * unit_s, "round_bound_s": round_bound(dag) * unit_s,
        "sequential_s": sequential, "parallel_s": parallel, "speedup": speedup,
        "ideal_speedup": ideal, "fraction_of_ideal": speedup / ideal,
        "fraction_of_round_bound": speedup / (work / round_bound(dag)),
        "run_speedup": sequential_run / parallel_run,
    }


async def _run(size: str) -> list[dict[str, Any]]:
    spec = SIZES[size]
    await _measure("warm-up", DAGS["diamond"], 0.001)  # imports LiteLLM, compiles the graph
    return [await _measure(name, DAGS[name], spec["unit_s"]) for name in spec["dags"]]


def run(size: str = "full") -> dict[str, Any]:
    if size not in SIZES:
        raise ValueError(f"size {size!r} is unknown; use one of {', '.join(SIZES)}")
    rows = asyncio.run(_run(size))
    unit = SIZES[size]["unit_s"]
    met = [r["dag"] for r in rows if r["fraction_of_ideal"] >= TARGET]
    notes = (
        f"One latency unit = {unit}s of asyncio.sleep in a scripted executor, in whole Agent "
        "runs (checkpoints, records); sequential = max_concurrency=1. sequential_s/parallel_s "
        "run from the first subtask's start to the last one's end (monitor rounds included); "
        "run_speedup is over whole runs (a strategist and a finalizer call too). Ideal speedup = "
        f"total work / critical path; target ≥ {TARGET:.0%} of it, met by: "
        f"{', '.join(met) or 'none'}. Dispatch is by rounds (LangGraph supersteps), so DAGs "
        "with unequal branch latencies are bounded by round_bound_s, above the critical path."
    )
    return {"name": "parallel", "title": "Parallel speedup on simulated-latency subtask DAGs",
            "rows": rows, "notes": notes}


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(sys.argv[1] if len(sys.argv) > 1 else "smoke"), indent=1))
