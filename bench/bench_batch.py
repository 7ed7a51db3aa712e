"""Batch throughput: runs per minute of `agentkit batch` with 1, 2 and 4 worker processes.

The same scripted tasks ("Write WORD to answer.txt", checked with grep) run through
`agentkit.batch.run_batch` (local worker processes, one SQLite store) and, as baselines, in one
process: one `Agent.run` after another, and all at once with asyncio (4 at a time). Every model
call sleeps `latency` seconds, a stand-in for a hosted model's response time; latency 0 measures
agentkit's own cost. Times are wall clock from the start of the batch to its summary, worker
start-up included; the in-process baselines start after one warm-up run (imports done), and
`warm_runs_per_min` is a batch's rate once each worker has finished its first run.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

SIZES: dict[str, dict[str, Any]] = {
    "smoke": {"tasks": 1, "workers": [1], "latencies": [0.0]},
    "full": {"tasks": 16, "workers": [1, 2, 4], "latencies": [0.0, 0.5]},
}
LATENCY_ENV = "AK_BENCH_LATENCY"
_WORD = re.compile(r"Write (\S+) to answer\.txt")


async def _reply(request: Any) -> Any:
    from agentkit import Plan, PlanStep, ToolCall

    await asyncio.sleep(float(os.environ.get(LATENCY_ENV) or 0))
    text = " ".join(str(m.get("content") or "") for m in request.messages)
    word = _WORD.search(text).group(1)  # type: ignore[union-attr]
    if request.role == "strategist":
        return Plan(strategy="Write the word.", steps=[PlanStep(
            id="s1", title="Write answer.txt", instructions=f"Write {word} to answer.txt.",
            difficulty="trivial")])
    if request.role == "finalizer":
        return f"answer.txt holds {word}"
    if not any(m["role"] == "tool" for m in request.messages):
        return ToolCall(name="write_file", arguments={"path": "answer.txt", "content": word})
    return ToolCall(name="finish", arguments={"result": word})


def model() -> Any:
    """The model factory the benchmark's agent file names."""
    from agentkit import FunctionModel

    return FunctionModel(_reply)  # a fresh name: the baselines build one agent per run


def _files(folder: Path, tasks: int) -> tuple[Path, Path]:
    agent = folder / "agent.yaml"
    agent.write_text(f"model: {Path(__file__).resolve()}:model\ntools: [files]\n")
    lines = [f'{{"id": "w{n}", "goal": "Write w{n} to answer.txt", '
             f'"check": "grep -qx w{n} answer.txt"}}\n' for n in range(tasks)]
    path = folder / "tasks.jsonl"
    path.write_text("".join(lines))
    return agent, path


def _batch(folder: Path, workers: int, tasks: int) -> dict[str, Any]:
    from agentkit.batch import run_batch

    agent, path = _files(folder, tasks)
    started = time.perf_counter()
    summary = run_batch(path, agent, db=str(folder / "runs.db"), workers=workers,
                        workspaces=folder / "ws")
    seconds = time.perf_counter() - started
    return {"how": f"agentkit batch --workers {workers}", "runs": summary.tries,
            "passed": summary.passed, "seconds": seconds, "runs_per_min": 60 * tasks / seconds,
            "warm_runs_per_min": _warm_rate(str(folder / "runs.db"), workers)}


def _warm_rate(db: str, workers: int) -> float | None:
    """Runs per minute once every worker has finished its first run (imports done): the runs
    that ended after the `workers`-th one, over the time from it to the last."""
    from agentkit import Store

    ends = sorted(r.updated_at for r in Store(db).list_runs(10_000))
    if len(ends) <= workers:
        return None
    return 60 * (len(ends) - workers) / (ends[-1] - ends[workers - 1])


def _in_process(folder: Path, tasks: int, at_once: int) -> dict[str, Any]:
    from agentkit import Agent

    agent_path, _ = _files(folder, tasks)
    agents = [Agent.from_file(agent_path, db=str(folder / "runs.db"),
                              workspace=_workspace(folder, n)) for n in range(tasks)]
    goals = [f"Write w{n} to answer.txt" for n in range(tasks)]
    warm = Agent.from_file(agent_path, db=str(folder / "warm.db"),
                           workspace=_workspace(folder, -1))
    warm.run_sync("Write warm to answer.txt")  # imports done before the clock starts
    started = time.perf_counter()
    if at_once == 1:
        results = [a.run_sync(g) for a, g in zip(agents, goals, strict=True)]
    else:
        results = asyncio.run(_gather(agents, goals, at_once))
    seconds = time.perf_counter() - started
    passed = sum(r.status == "completed" and _wrote(folder, n) for n, r in enumerate(results))
    how = "one process, runs one after another" if at_once == 1 else \
        f"one process, asyncio, {at_once} runs at once"
    return {"how": how, "runs": tasks, "passed": passed, "seconds": seconds,
            "runs_per_min": 60 * tasks / seconds}


async def _gather(agents: list[Any], goals: list[str], at_once: int) -> list[Any]:
    limit = asyncio.Semaphore(at_once)

    async def one(agent: Any, goal: str) -> Any:
        async with limit:
            return await agent.run(goal)

    return await asyncio.gather(*(one(a, g) for a, g in zip(agents, goals, strict=True)))


def _workspace(folder: Path, n: int) -> Path:
    path = folder / "ws" / f"w{n}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _wrote(folder: Path, n: int) -> bool:
    path = folder / "ws" / f"w{n}" / "answer.txt"
    return path.exists() and path.read_text() == f"w{n}"


def run(size: str) -> dict[str, Any]:
    config = SIZES[size]
    rows = []
    for latency in config["latencies"]:
        os.environ[LATENCY_ENV] = str(latency)
        try:
            measured = []
            if size == "full":
                measured += [lambda f: _in_process(f, config["tasks"], 1),
                             lambda f: _in_process(f, config["tasks"], 4)]
            measured += [lambda f, w=w: _batch(f, w, config["tasks"]) for w in config["workers"]]
            for measure in measured:
                with tempfile.TemporaryDirectory() as folder:
                    rows.append({"latency_s": latency, **measure(Path(folder))})
        finally:
            os.environ.pop(LATENCY_ENV, None)
    return {
        "name": "bench_batch",
        "title": f"Batch throughput: {config['tasks']} scripted runs, 1/2/4 worker processes",
        "rows": rows,
        "notes": [
            f"{config['tasks']} tasks of one plan step each (4 model calls, 1 write_file, a grep "
            "check); SQLite store in a temporary folder; each model call sleeps latency_s.",
            "2 CPUs shared with other work (see the load average); each worker's first run "
            "pays its imports (LiteLLM, LangGraph).",
        ],
    }
